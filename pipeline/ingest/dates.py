"""Effective dates: text in many spellings -> UTC timestamps, vectorised over a column.

Accepted, per cell:
- ISO: ``2026-11-05``, ``2026-11-05 06:55``, ``2026-11-05 06:55:00[.484053]``, a ``T``
  separator, a trailing ``Z``/``UTC`` or an offset (``+02:00``, converted to UTC). A time
  without zone is UTC.
- Day/month/year with ``/``, ``.`` or ``-``: the order is decided once for the whole column.
  A first number above 12 anywhere means dd/mm/yyyy, a second one above 12 means mm/dd/yyyy;
  when every value is ambiguous the column is read dd/mm/yyyy (CommPeak is European) and a
  note says so. Values that do not fit the decided order are refused.
- Excel serial day numbers (``46331``, ``46331.25``), only from XLS/XLSX sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

UTC_TS = pl.Datetime("us", "UTC")

_ISO_RE = (
    r"^([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[T ]([0-9]{1,2}:[0-9]{2})(:[0-9]{2}(?:\.[0-9]+)?)?)?"
    r"\s*(Z|UTC|[+-][0-9]{2}:?[0-9]{2})?$"
)
_DMY_RE = r"^([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{4})(?:[T ]([0-9]{1,2}:[0-9]{2})(:[0-9]{2}(?:\.[0-9]+)?)?)?$"
_SERIAL_RE = r"^[0-9]+(?:\.[0-9]+)?$"
_MAX_SERIAL = 2958466  # 10000-01-01
_MS_PER_DAY = 86_400_000


@dataclass(frozen=True)
class ParsedDates:
    values: pl.Series  # Datetime(us, UTC); null where empty or refused
    reasons: pl.Series  # String; null where fine or empty
    notes: list[str]


def parse_effective_dates(raw: pl.Series, *, excel_epoch: datetime | None) -> ParsedDates:
    text = raw.cast(pl.String).str.strip_chars()
    frame = pl.DataFrame({"text": text})
    iso = frame.select(
        pl.col("text").str.extract_groups(_ISO_RE).struct.rename_fields(["d", "hm", "s", "tz"])
    ).to_series()
    dmy = frame.select(
        pl.col("text").str.extract_groups(_DMY_RE).struct.rename_fields(["a", "b", "y", "hm", "s"])
    ).to_series()
    first = dmy.struct.field("a").cast(pl.Int32)
    second = dmy.struct.field("b").cast(pl.Int32)
    day_first, notes = _decide_order(first, second)

    parts = pl.DataFrame(
        {
            "text": text,
            "iso": iso,
            "dmy": dmy,
            "day": first if day_first else second,
            "month": second if day_first else first,
        }
    )
    order = "dd/mm/yyyy" if day_first else "mm/dd/yyyy"
    result = parts.select(
        _iso_value().alias("iso_value"),
        _dmy_value().alias("dmy_value"),
        _serial_value(excel_epoch).alias("serial_value"),
        pl.col("iso").struct.field("d").is_not_null().alias("is_iso"),
        pl.col("dmy").struct.field("y").is_not_null().alias("is_dmy"),
        (pl.col("text").str.contains(_SERIAL_RE) & pl.lit(excel_epoch is not None)).alias(
            "is_serial"
        ),
        pl.col("text"),
    )
    result = result.with_columns(
        pl.coalesce("iso_value", "dmy_value", "serial_value").alias("value")
    ).select("value", _reason(order))
    return ParsedDates(values=result["value"], reasons=result["reason"], notes=notes)


def _decide_order(first: pl.Series, second: pl.Series) -> tuple[bool, list[str]]:
    first_over = int((first > 12).sum())
    second_over = int((second > 12).sum())
    if second_over and not first_over:
        return False, []
    if first_over or first.is_null().all():
        return True, []
    return True, [
        f"effective dates: all {first.count()} day/month dates are ambiguous "
        "(both numbers <= 12): read as dd/mm/yyyy"
    ]


def _time_part(struct: str) -> pl.Expr:
    hm = pl.col(struct).struct.field("hm").fill_null("00:00").str.zfill(5)
    seconds = pl.col(struct).struct.field("s").fill_null(":00")
    return pl.concat_str(hm, seconds)


def _iso_value() -> pl.Expr:
    naive = pl.concat_str(pl.col("iso").struct.field("d"), pl.lit(" "), _time_part("iso"))
    tz = pl.col("iso").struct.field("tz")
    has_offset = tz.is_not_null() & ~tz.is_in(["Z", "UTC"])
    return (
        pl.when(has_offset)
        .then(pl.concat_str(naive, tz).str.strptime(UTC_TS, "%Y-%m-%d %H:%M:%S%.f%z", strict=False))
        .otherwise(
            naive.str.strptime(
                pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f", strict=False
            ).dt.replace_time_zone("UTC")
        )
    )


def _dmy_value() -> pl.Expr:
    iso = pl.concat_str(
        pl.col("dmy").struct.field("y"),
        pl.lit("-"),
        pl.col("month").cast(pl.String).str.zfill(2),
        pl.lit("-"),
        pl.col("day").cast(pl.String).str.zfill(2),
        pl.lit(" "),
        _time_part("dmy"),
    )
    return iso.str.strptime(
        pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f", strict=False
    ).dt.replace_time_zone("UTC")


def _serial_value(excel_epoch: datetime | None) -> pl.Expr:
    if excel_epoch is None:
        return pl.lit(None, dtype=UTC_TS)
    # Excel keeps times to the millisecond; rounding there removes the float's noise.
    days = pl.col("text").cast(pl.Float64, strict=False)
    millis = (days * _MS_PER_DAY).round(0).cast(pl.Int64)
    return (
        pl.when(days.is_between(1, _MAX_SERIAL, closed="left"))
        .then(pl.lit(excel_epoch).dt.replace_time_zone("UTC") + pl.duration(milliseconds=millis))
        .otherwise(None)
        .cast(UTC_TS)
    )


def _reason(order: str) -> pl.Expr:
    quoted = pl.concat_str(pl.lit("'"), pl.col("text").str.slice(0, 40), pl.lit("'"))
    empty = pl.col("text").is_null() | (pl.col("text") == "")
    return (
        pl.when(empty)
        .then(None)
        .when(pl.col("value").is_not_null())
        .then(None)
        .when(pl.col("is_iso"))
        .then(pl.concat_str(pl.lit("effective date: not a valid date "), quoted))
        .when(pl.col("is_dmy"))
        .then(pl.concat_str(pl.lit(f"effective date: not a valid {order} date "), quoted))
        .when(pl.col("is_serial"))
        .then(pl.concat_str(pl.lit("effective date: Excel serial out of range "), quoted))
        .otherwise(pl.concat_str(pl.lit("effective date: unrecognised date "), quoted))
        .alias("reason")
    )
