"""Per-field rules for rate rows: a polars expression for the value and one for the reason.

Each ``*_rule()`` returns expressions over a column of stripped text named after the field.
A reason is null when the value is fine, else one line naming the field and the raw value:
``price: more than 8 decimal places; refusing to round '0.123456789'``.
"""

from __future__ import annotations

import re

import polars as pl

from pipeline.errors import ConfigError
from pipeline.ingest.frames import PRICE_DTYPE
from pipeline.ingest.phone import INVISIBLE_CLASS, WHITESPACE_CLASS

MAX_PREFIX_DIGITS = 15  # E.164
MAX_PRICE_INTEGER_DIGITS = 10  # Decimal(18, 8)
MAX_PRICE_DECIMALS = 8
MAX_INTERVAL_SECONDS = 86_400
INCREMENTS_RE = r"^([0-9]+)\s*/\s*([0-9]+)$"

# A clean row needs no rewriting: two anchored regex scans and a length check prove it.
CLEAN_PREFIX_RE = rf"^[0-9]{{1,{MAX_PREFIX_DIGITS}}}$"
CLEAN_PRICE_RE = rf"^[0-9]{{1,{MAX_PRICE_INTEGER_DIGITS}}}(\.[0-9]{{0,{MAX_PRICE_DECIMALS}}})?$"


def is_empty(expr: pl.Expr) -> pl.Expr:
    return expr.is_null() | (expr == "")


def because(field: str, why: str, value: pl.Expr | None = None) -> pl.Expr:
    text = pl.lit(f"{field}: {why}")
    if value is None:
        return text
    return pl.concat_str(text, pl.lit(" '"), value.str.slice(0, 40), pl.lit("'"))


def clean_row_mask() -> pl.Expr:
    """Rows that need no rewriting: digits-only prefix, plain price, destination unpadded."""
    destination = pl.col("destination")
    stripped_length = destination.str.strip_chars().str.len_bytes()
    return (
        pl.col("prefix").str.contains(CLEAN_PREFIX_RE)
        & pl.col("price").str.contains(CLEAN_PRICE_RE)
        & (stripped_length > 0)
        & (stripped_length == destination.str.len_bytes())
    ).fill_null(False)


def destination_rule() -> tuple[pl.Expr, pl.Expr]:
    value = pl.col("destination")
    return value, pl.when(is_empty(value)).then(because("destination", "empty"))


def prefix_rule() -> tuple[pl.Expr, pl.Expr]:
    """Digits only: '+', whitespace and dashes are dropped; letters or other marks refuse it,
    and so does a range (``is_prefix_range``): dropping its dash would make one wrong prefix."""
    raw = pl.col("prefix")
    unspaced = without_blanks(raw)
    digits = unspaced.str.replace_all("-", "", literal=True).str.strip_prefix("+")
    reason = (
        pl.when(is_empty(raw))
        .then(because("prefix", "empty"))
        .when(is_prefix_range(unspaced))
        .then(because("prefix", "a range, not a prefix (one row per prefix)", raw))
        .when(digits.str.contains(r"\p{L}"))
        .then(because("prefix", "contains letters", raw))
        .when(~digits.str.contains(r"^[0-9]+$"))
        .then(because("prefix", "not digits", raw))
        .when(digits.str.len_bytes() > MAX_PREFIX_DIGITS)
        .then(because("prefix", f"longer than {MAX_PREFIX_DIGITS} digits", raw))
    )
    return digits, reason


def without_blanks(raw: pl.Expr) -> pl.Expr:
    """``raw`` without whitespace or invisible characters, read as in phone numbers: the same
    lists (``phone.WHITESPACE``, ``phone.INVISIBLE``), never a regex's ``\\s``, which polars
    reads without U+001C-U+001F. A zero-width space or BOM copied along with a prefix from a
    spreadsheet is not there, as in ``lookup`` and ``cost``."""
    return raw.str.replace_all(INVISIBLE_CLASS, "").str.replace_all(WHITESPACE_CLASS, "")


def is_prefix_range(unspaced: pl.Expr) -> pl.Expr:
    """``49172-49174``, as rate notices write three prefixes: two digit groups of the same
    length, the same first digit, the second greater. A dash that only groups digits
    (``44-20``, ``353-89``) fails one of these and is dropped as a separator. ``unspaced`` is
    the cell ``without_blanks``."""
    ends = unspaced.str.extract_groups(r"^\+?([0-9]+)-([0-9]+)$")
    low, high = ends.struct.field("1"), ends.struct.field("2")
    return (
        (low.str.len_bytes() == high.str.len_bytes())
        & (low.str.slice(0, 1) == high.str.slice(0, 1))
        & (high > low)
    ).fill_null(False)


def price_rule() -> tuple[pl.Expr, pl.Expr]:
    """Price as plain decimal text (exact for Decimal(18, 8)), and why it is refused."""
    raw = pl.col("price")
    # "0,1175": a comma is the decimal separator when it is the only separator.
    text = (
        pl.when(raw.str.contains(r"^-?[0-9]*,[0-9]+$"))
        .then(raw.str.replace(",", ".", literal=True))
        .otherwise(raw)
    )
    exact = text.str.replace(r"(\.[0-9]*?)0+$", "${1}")  # trailing zeros carry no value
    decimals = exact.str.extract(r"\.([0-9]*)$", 1).str.len_chars().fill_null(0)
    integer_digits = exact.str.extract(r"^0*([0-9]*)", 1).str.len_chars()
    reason = (
        pl.when(is_empty(raw))
        .then(because("price", "empty"))
        .when(text.str.contains(r"^-([0-9]|\.[0-9])"))
        .then(because("price", "negative", raw))
        .when(text.str.contains(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+$"))
        .then(because("price", "scientific notation not accepted", raw))
        .when(~text.str.contains(r"^([0-9]+\.?[0-9]*|\.[0-9]+)$"))
        .then(because("price", "not a number", raw))
        .when(integer_digits > MAX_PRICE_INTEGER_DIGITS)
        .then(
            because("price", f"more than {MAX_PRICE_INTEGER_DIGITS} digits before the point", raw)
        )
        .when(decimals > MAX_PRICE_DECIMALS)
        .then(because("price", "more than 8 decimal places; refusing to round", raw))
    )
    return exact, reason


def to_price(text: pl.Expr) -> pl.Expr:
    """Text already proven exact (<= 8 decimals) -> Decimal(18, 8); anything else -> null."""
    return text.cast(PRICE_DTYPE, strict=False)


def increments_rule() -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """'a/b' -> (initial_seconds, increment_seconds, reason); a, b >= 1 and at most a day."""
    raw = pl.col("increments")
    parts = raw.str.extract_groups(INCREMENTS_RE)
    first = parts.struct.field("1").cast(pl.Int64, strict=False)
    sub = parts.struct.field("2").cast(pl.Int64, strict=False)
    reason = (
        pl.when(is_empty(raw) | (raw == "/"))  # "/": both First and Sub Interval cells empty
        .then(because("increments", "empty"))
        .when(parts.struct.field("1").is_null())
        .then(because("increments", "expected 'a/b' seconds, got", raw))
        .when((first < 1) | (sub < 1))
        .then(because("increments", "intervals must be at least 1 second, got", raw))
        .when(
            first.is_null()
            | sub.is_null()
            | (first > MAX_INTERVAL_SECONDS)
            | (sub > MAX_INTERVAL_SECONDS)
        )
        .then(because("increments", "an interval longer than a day", raw))
    )
    fine = reason.is_null()
    return (
        pl.when(fine).then(first).cast(pl.Int32),
        pl.when(fine).then(sub).cast(pl.Int32),
        reason,
    )


def currency_rule() -> tuple[pl.Expr, pl.Expr]:
    raw = pl.col("currency")
    value = pl.when(is_empty(raw)).then(None).otherwise(raw.str.to_uppercase())
    reason = pl.when(~is_empty(raw) & ~value.str.contains(r"^[A-Z]{3}$")).then(
        because("currency", "not a 3-letter code", raw)
    )
    return value, reason


def check_default_increments(default_increments: str) -> None:
    match = re.fullmatch(INCREMENTS_RE, default_increments.strip())
    if not match or not all(1 <= int(part) <= MAX_INTERVAL_SECONDS for part in match.groups()):
        raise ConfigError(
            f"default increments must be 'a/b' seconds with a, b >= 1, got {default_increments!r}"
        )
