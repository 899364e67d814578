"""Finding the header row of a deck and mapping its columns to canonical fields.

A header cell is matched after normalisation: lower case, a currency code or symbol removed
(remembered: "Cost / Min (USD)" says the prices are USD), everything but letters and digits
dropped. So "Billing Increments", "billing_increments" and "BILLING-INCREMENTS" are one key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

HEADER_SCAN_ROWS = 50  # a header further down than this is not a header

# Canonical field -> accepted header keys, best first (a deck with both "Destination" and
# "Country" columns uses "Destination").
ALIASES: dict[str, tuple[str, ...]] = {
    "destination": (
        "destination",
        "destinationname",
        "description",
        "name",
        "country",
        "countryname",
        "dest",
    ),
    "prefix": ("prefix", "dialcode", "dialingcode", "code", "destinationcode", "prefixcode"),
    "price": (
        "price",
        "rate",
        "cost",
        "priceperminute",
        "pricepermin",
        "pricemin",
        "rateperminute",
        "ratepermin",
        "ratemin",
        "costperminute",
        "costpermin",
        "costmin",
        "newrate",
        "newprice",
    ),
    "increments": (
        "billingincrements",
        "billingincrement",
        "increments",
        "billing",
        "interval",
        "billinginterval",
        "billingintervals",
    ),
    "first_interval": (
        "firstinterval",
        "initialincrement",
        "initialinterval",
        "minduration",
        "minimumduration",
        "firstincrement",
        "first",
        "initial",
    ),
    "sub_interval": (
        "subinterval",
        "increment",
        "next",
        "nextinterval",
        "nextincrement",
        "subsequentinterval",
        "subsequentincrement",
        "subincrement",
    ),
    "effective": (
        "effectivedate",
        "effectivefrom",
        "effective",
        "startdate",
        "validfrom",
        "effectiveon",
        "effectivetime",
        "effectivedatetime",
        "startdatetime",
    ),
    "currency": ("currency", "currencycode", "curr", "ccy"),
}
REQUIRED = ("destination", "prefix", "price")

_CURRENCY_CODES = (
    "USD EUR GBP CHF CAD AUD NZD JPY CNY HKD SGD INR ILS AED SAR TRY ZAR BRL MXN "
    "SEK NOK DKK PLN CZK HUF RON BGN RUB UAH"
).split()
_CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP"}
_CURRENCY_RE = re.compile(r"\b(" + "|".join(_CURRENCY_CODES) + r")\b", re.IGNORECASE)
_NON_ALNUM_RE = re.compile(r"[^0-9a-z]+")


def header_key(cell: str) -> tuple[str, str | None]:
    """Normalised header key and the currency the header names, if any."""
    currency = None
    match = _CURRENCY_RE.search(cell)
    if match:
        currency = match.group(1).upper()
        cell = _CURRENCY_RE.sub(" ", cell)
    for symbol, code in _CURRENCY_SYMBOLS.items():
        if symbol in cell:
            currency = currency or code
            cell = cell.replace(symbol, " ")
    return _NON_ALNUM_RE.sub("", cell.lower()), currency


def describe_expected() -> str:
    """For error messages: which header spellings were looked for."""
    shown = {
        "destination": "Destination/Country/Name/Description",
        "prefix": "Prefix/Code/Dial Code",
        "price": "Price/Rate/Cost/Price per minute",
    }
    return ", ".join(f"{name} ({shown[name]})" for name in REQUIRED)


@dataclass(frozen=True)
class ColumnMapping:
    """Where each canonical field sits in a table (0-based column indexes)."""

    names: list[str]  # unique column names, as in the source (used as raw JSON keys)
    columns: dict[str, int]  # canonical field -> column index
    header_currency: str | None = None  # currency named by the price header, e.g. "(USD)"
    positional: bool = False  # no header row: fields taken by position
    notes: list[str] = field(default_factory=list)

    @property
    def ignored(self) -> list[str]:
        used = set(self.columns.values())
        return [name for index, name in enumerate(self.names) if index not in used]

    def has_increments(self) -> bool:
        return "increments" in self.columns or {"first_interval", "sub_interval"} <= set(
            self.columns
        )


def unique_names(cells: Sequence[str | None]) -> list[str]:
    """Column names for the raw JSON: blanks become column_N, repeats get _N appended."""
    names: list[str] = []
    seen: set[str] = set()
    for index, cell in enumerate(cells, start=1):
        name = (cell or "").strip() or f"column_{index}"
        if name in seen:
            name = f"{name}_{index}"
        seen.add(name)
        names.append(name)
    return names


def map_header(cells: Sequence[str | None]) -> ColumnMapping | None:
    """The mapping if this row is a header (it names destination, prefix and price)."""
    best: dict[str, tuple[int, int]] = {}  # field -> (alias rank, column index)
    currencies: dict[int, str] = {}
    for index, cell in enumerate(cells):
        if not cell or not cell.strip():
            continue
        key, currency = header_key(cell)
        if currency:
            currencies[index] = currency
        for canonical, aliases in ALIASES.items():
            if key in aliases:
                rank = aliases.index(key)
                if canonical not in best or rank < best[canonical][0]:
                    best[canonical] = (rank, index)
    if not all(name in best for name in REQUIRED):
        return None
    columns = {name: index for name, (_, index) in best.items()}
    notes = []
    if "increments" not in columns and ("first_interval" in columns) != ("sub_interval" in columns):
        lone = "first_interval" if "first_interval" in columns else "sub_interval"
        notes.append(f"only a {lone.replace('_', ' ')} column, no pair: increments not read")
        columns.pop(lone)
    if "increments" in columns:
        columns.pop("first_interval", None)
        columns.pop("sub_interval", None)
    return ColumnMapping(
        names=unique_names(cells),
        columns=columns,
        header_currency=currencies.get(columns["price"]),
        notes=notes,
    )


_POSITIONAL_PATTERNS = (
    re.compile(r".*[^\W\d_].*"),  # destination: has a letter
    re.compile(r"\+?[0-9 \-]+"),  # prefix
    re.compile(r"[0-9]+([.,][0-9]+)?|[.,][0-9]+"),  # price
    re.compile(r"[0-9]+\s*/\s*[0-9]+"),  # increments a/b
)


def positional_mapping(rows: Iterable[Sequence[str | None]]) -> ColumnMapping | None:
    """A headerless deck whose first rows clearly read (destination, prefix, price[, a/b])."""
    sample = [row for row in rows if any(cell and cell.strip() for cell in row)][:5]
    if not sample:
        return None
    width = len(sample[0])
    if width not in (3, 4) or any(len(row) != width for row in sample):
        return None
    for row in sample:
        for cell, pattern in zip(row, _POSITIONAL_PATTERNS, strict=False):
            if not pattern.fullmatch((cell or "").strip()):
                return None
    fields = ("destination", "prefix", "price", "increments")[:width]
    return ColumnMapping(
        names=unique_names([None] * width),
        columns={name: index for index, name in enumerate(fields)},
        positional=True,
    )


def find_header(rows: Sequence[Sequence[str | None]]) -> tuple[int, ColumnMapping] | None:
    """(row index, mapping) of the first header row among the first HEADER_SCAN_ROWS rows."""
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        mapping = map_header(row)
        if mapping is not None:
            return index, mapping
    return None
