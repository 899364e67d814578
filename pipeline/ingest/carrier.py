"""The carrier's own call export (CommPeak's portal CSV) -> canonical billed calls + rejects
(pure).

One row per call the carrier billed; ``CarrierColumnNames`` says which header holds what
(``[reconcile.columns]``, defaults: the portal's header). A row that cannot be a billed call
(bad number, time, seconds or money, money in another currency than the account's: the
reconciliation subtracts it from our costs, or more fields than the header) is a reject with its line number (the header is
line 1) and the reason; nothing is dropped silently. Money stays exact (Decimal).

Vectorised as the CDR ingest is (``cdr.py``): a row whose every field is plainly good (digits
and separators for the number, whole seconds, an ISO time, plain decimals for the money, an
ASCII currency) is converted in bulk; any other row goes through the row-by-row rules
(``_billed_call``), which decide it and word its reason. Both give the same calls: a test
holds the bulk path to the row-by-row one on random and adversarial rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from pipeline.ingest.cdr import (
    FLOAT_LIKE,
    PLAIN_NUMBER,
    SEPARATORS,
    TRUNK_ZERO_MARK,
    WHOLE_SECONDS,
    BadField,
    none_if_empty,
    reject_row,
    start_in_range,
    started_at_column,
    stripped,
    utc_moment,
    whole_seconds,
)
from pipeline.ingest.csv_rows import HeaderCsv, read_header_csv, require_columns
from pipeline.ingest.errors import NoValidRowsError
from pipeline.ingest.frames import REJECT_SCHEMA, UTC_TS, IngestResult
from pipeline.ingest.number_columns import plain_number_digits
from pipeline.ingest.phone import number_problem

SOURCE_FORMAT = "carrier"
MONEY = pl.Decimal(18, 8)
_EIGHT_PLACES = Decimal("1E-8")  # MONEY's scale
UTC_ZONE = ZoneInfo("UTC")  # the export is in UTC

CARRIER_CALL_SCHEMA = pl.Schema(
    {
        "row_number": pl.Int64(),  # line in the file (the header is line 1)
        "call_id": pl.String(),  # the carrier's id of the call
        "started_at": UTC_TS,
        "tech_prefix": pl.String(),  # 'current' when the export names none
        "number": pl.String(),  # digits, without the tech prefix
        "destination": pl.String(),
        "prefix": pl.String(),
        "seconds": pl.Int64(),  # what the carrier measured
        "billed_seconds": pl.Int64(),
        "rate": MONEY,
        "cost": MONEY,
        "currency": pl.String(),
    }
)


@dataclass(frozen=True)
class CarrierColumnNames:
    """The export's header for each field (settings ``[reconcile.columns]``)."""

    call_id: str = "Call ID"
    started_at: str = "Start Time (UTC)"
    tech_prefix: str = "Tech Prefix"
    number: str = "Destination Number"
    destination: str = "Destination"
    prefix: str = "Prefix"
    seconds: str = "Duration"
    billed_seconds: str = "Billed Seconds"
    rate: str = "Rate"
    cost: str = "Cost"
    currency: str = "Currency"


def ingest_carrier(
    data: bytes, *, source: str, columns: CarrierColumnNames, currency: str
) -> IngestResult:
    """Parse one carrier export whose money must be in ``currency`` (the account's, ISO 4217
    upper case; a row naming no currency is taken to be in it). Raises an ingest error when a
    mapped column is missing or no row is usable."""
    wanted = asdict(columns)
    table = _read(data, source, wanted)
    frame = table.frame
    fields = frame.select(pl.col(header).alias(field) for field, header in wanted.items())
    # a blank row is no call; dropped once numbered, so that the others keep their lines
    checked = table.without_blank(_fast_check(fields, currency, trusted=pl.lit(table.trusted)))
    fast = checked.filter(pl.col("_fast")).drop("_fast")
    others = checked.filter(~pl.col("_fast"))["row_number"].to_list()
    rows, rejects = _row_by_row(table, wanted, others, currency)
    slow = pl.DataFrame(rows, schema=CARRIER_CALL_SCHEMA, orient="row")
    return _result(source, pl.concat([fast, slow]).sort("row_number"), rejects)


def _row_by_row(
    table: HeaderCsv, wanted: Mapping[str, str], lines: list[int], currency: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The billed calls and rejects of the rows on ``lines`` (line 1 is the header)."""
    rows: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []
    at = [line - 2 for line in lines]
    picked = table.frame[at] if lines else table.frame.clear()
    for line, raw, shape in zip(
        lines, picked.iter_rows(named=True), table.reasons(at), strict=True
    ):
        fields = {field: raw[header] for field, header in wanted.items()}
        try:
            if shape is not None:
                raise BadField(shape)
            rows.append({"row_number": line, **_billed_call(fields, currency)})
        except BadField as exc:
            rejects.append(reject_row(line, raw, str(exc)))
    return rows, rejects


# -- the fast check: rows whose every field is plainly good, converted in bulk ---------------
_MONEY = r"^[0-9]{1,10}(?:\.[0-9]{1,8})?$"  # >= 0, at most 8 places, below 10**10
_CURRENCY = r"^[A-Za-z]*$"
_PLAIN_DIGITS = r"^[0-9]+$"


def _fast_check(fields: pl.DataFrame, account_currency: str, *, trusted: pl.Expr) -> pl.DataFrame:
    """Every row (``CARRIER_CALL_SCHEMA``) with its values where the fast check holds
    (``_fast``); a row it does not prove good (or not ``trusted``) keeps ``_fast`` false."""
    number = pl.col("number")
    digits = plain_number_digits(number.str.replace_all(SEPARATORS, ""))
    tech_prefix = stripped("tech_prefix").fill_null("")
    currency = stripped("currency")
    fast = (
        trusted
        & (stripped("call_id") != "")
        & number.str.contains(PLAIN_NUMBER)
        & ~number.str.contains(FLOAT_LIKE)
        & ~number.str.contains(TRUNK_ZERO_MARK, literal=True)
        & digits.str.contains(_PLAIN_DIGITS)
        & (tech_prefix.is_in(["", "current"]) | tech_prefix.str.contains(_PLAIN_DIGITS))
        & pl.col("seconds").str.contains(WHOLE_SECONDS)
        & pl.col("billed_seconds").str.contains(WHOLE_SECONDS)
        & start_in_range(pl.col("started_at"))
        & pl.col("rate").str.contains(_MONEY)
        & pl.col("cost").str.contains(_MONEY)
        & currency.fill_null("").str.contains(_CURRENCY)
        # ASCII (just checked), so polars' upper case is Python's
        & currency.fill_null("").str.to_uppercase().is_in(["", account_currency])
    ).fill_null(False)
    values = [  # meaningful where ``_fast`` (the other rows are decided row by row)
        stripped("call_id").alias("call_id"),
        pl.col("started_at"),
        pl.when(tech_prefix == "")
        .then(pl.lit("current"))
        .otherwise(tech_prefix)
        .alias("tech_prefix"),
        digits.alias("number"),
        none_if_empty(stripped("destination")).alias("destination"),
        none_if_empty(stripped("prefix")).alias("prefix"),
        pl.col("seconds").cast(pl.Int64, strict=False),
        pl.col("billed_seconds").cast(pl.Int64, strict=False),
        pl.col("rate").cast(MONEY, strict=False),
        pl.col("cost").cast(MONEY, strict=False),
        none_if_empty(currency.str.to_uppercase()).alias("currency"),
    ]
    return (
        fields.with_columns(started_at_column(fields["started_at"], UTC_ZONE))
        .with_columns(fast.alias("_fast"))
        .with_row_index("row_number", offset=2)  # line 1 is the header
        .select(pl.col("row_number").cast(pl.Int64), *values, "_fast")
        .cast(dict(CARRIER_CALL_SCHEMA))  # type: ignore[arg-type]
    )


def _read(data: bytes, source: str, wanted: Mapping[str, str]) -> HeaderCsv:
    """The export's rows, every mapped column there; an export of no row at all (no bytes,
    blank lines only) is an empty one: a quiet day, not a refusal (docs/cdr.md)."""
    return require_columns(read_header_csv(data, source), wanted.values(), source,
                           "reconcile.columns")  # fmt: skip


def _billed_call(fields: dict[str, str | None], account_currency: str) -> dict[str, Any]:
    call_id = (fields["call_id"] or "").strip()
    if not call_id:
        raise BadField("call id: empty")
    digits, problem = number_problem((fields["number"] or "").strip() or None)
    if digits is None:
        raise BadField(f"number {fields['number']!r}: {problem}")
    tech_prefix = (fields["tech_prefix"] or "").strip() or "current"
    if not (tech_prefix == "current" or tech_prefix.isdigit()):
        raise BadField(f"tech prefix {tech_prefix!r}: must be empty or digits")
    seconds = whole_seconds(fields["seconds"], "seconds")
    billed = whole_seconds(fields["billed_seconds"], "billed seconds")
    currency = (fields["currency"] or "").strip().upper() or None
    if currency not in (None, account_currency):
        raise BadField(
            f"currency {fields['currency']!r}: not the account's {account_currency} "
            "(report.currency); its money cannot be compared with our costs"
        )
    return {
        "call_id": call_id,
        "started_at": utc_moment(fields["started_at"], UTC_ZONE),
        "tech_prefix": tech_prefix,
        "number": digits,
        "destination": (fields["destination"] or "").strip() or None,
        "prefix": (fields["prefix"] or "").strip() or None,
        "seconds": seconds,
        "billed_seconds": billed,
        "rate": _money(fields["rate"], "rate"),
        "cost": _money(fields["cost"], "cost"),
        "currency": currency,
    }


def _money(text: str | None, name: str) -> Decimal:
    value = (text or "").strip()
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise BadField(f"{name} {value!r}: expected a decimal amount") from None
    wrong = BadField(f"{name} {value!r}: expected an amount >= 0 with at most 8 decimals")
    if not amount.is_finite() or amount < 0 or amount >= 10**10:
        raise wrong
    # below 10**10, 8 places fit the context's 28 digits: quantize cannot fail (round() on
    # "1E+30" raised). The result is the stored form: "0E+100" is 0.00000000
    exact = amount.quantize(_EIGHT_PLACES)
    if exact != amount:
        raise wrong
    return exact


def _result(source: str, rows: pl.DataFrame, rejects: list[dict[str, Any]]) -> IngestResult:
    total = rows.height + len(rejects)
    result = IngestResult(
        rows=rows,
        rejects=pl.DataFrame(rejects, schema=REJECT_SCHEMA, orient="row"),
        source_format=SOURCE_FORMAT,
        total_rows=total,
    )
    if total and not rows.height:
        raise NoValidRowsError.none_usable(
            source, "billed call", total, result, "; is reconcile.columns right?"
        )
    return result
