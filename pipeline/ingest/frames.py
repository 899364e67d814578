"""Canonical frame schemas: the contract between ingest (producer) and warehouse (consumer).

Prices are exact ``Decimal(18, 8)``: ingest refuses a value with more than 8 decimal places
rather than rounding it (polars' cast would round silently).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

PRICE_DTYPE = pl.Decimal(18, 8)
UTC_TS = pl.Datetime("us", "UTC")

VOICE_RATE_SCHEMA = pl.Schema(
    {
        "row_number": pl.Int64(),  # 1-based data row in the source (line in CSV, row in sheet)
        "prefix": pl.String(),  # digits only, leading zeros kept
        "destination": pl.String(),
        "price": PRICE_DTYPE,  # per minute
        "initial_seconds": pl.Int32(),  # billing increments a/b: first a seconds minimum...
        "increment_seconds": pl.Int32(),  # ...then b-second steps
        "effective_at": UTC_TS,  # carrier's effective date; null when the deck has none
        "currency": pl.String(),  # null when the deck does not say
    }
)

SMS_RATE_SCHEMA = pl.Schema(
    {
        "row_number": pl.Int64(),
        "mcc": pl.Int32(),  # integers, as the API gives them
        "mnc": pl.Int32(),
        "rate": PRICE_DTYPE,
    }
)

REJECT_SCHEMA = pl.Schema(
    {
        "row_number": pl.Int64(),
        "sheet": pl.String(),  # sheet name for XLS/XLSX, null for CSV/JSON
        "raw": pl.String(),  # the row's raw values as a JSON object {column: text}
        "reason": pl.String(),  # one line: which field and why
    }
)

# Voice and SMS rejects also name the key the refused row gave, when that key itself could be
# read: a deck row's prefix ("35389"), an SMS row's pair as the API's integers, "mcc-mnc"
# ("272-3"). Null when the key field is what was refused (or the row's shape), and for an
# identical repeat (its key is in the snapshot). The warehouse keeps such a key's price in
# force: a refused row is not a removal (pipeline/warehouse/history.py).
REFUSED_KEY = "refused_key"
KEYED_REJECT_SCHEMA = pl.Schema({**REJECT_SCHEMA, REFUSED_KEY: pl.String()})


# The reason of a row refused as an identical repeat of an earlier row ("duplicate of row 2"):
# nothing of the source is lost, so it counts neither as a reject nor as a row towards a feed's
# max_reject_fraction.
REPEAT_REASON = "duplicate of "


def empty_rejects() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECT_SCHEMA)


@dataclass(frozen=True)
class IngestResult:
    """What a pure ingest function returns: canonical rows, refused rows, and facts."""

    rows: pl.DataFrame
    rejects: pl.DataFrame
    source_format: str  # csv | xls | xlsx | json
    total_rows: int  # data rows seen (rows + rejects)
    notes: list[str] = field(default_factory=list)  # e.g. "no increments column: used 1/1"

    @property
    def repeat_count(self) -> int:
        """Rejects that only repeat an earlier row (``duplicate of row N``)."""
        return self.rejects.filter(pl.col("reason").str.starts_with(REPEAT_REASON)).height

    @property
    def counted_rejects(self) -> int:
        """Rejects that lost a row's content: what ``max_reject_fraction`` limits."""
        return self.rejects.height - self.repeat_count

    @property
    def reject_fraction(self) -> float:
        """Counted rejects over the distinct rows (identical repeats count in neither)."""
        distinct = self.total_rows - self.repeat_count
        return self.counted_rejects / distinct if distinct else 0.0
