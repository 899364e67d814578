"""What ingest hands over or the API sends, built from short test data: canonical voice
frames and SMS rate lists as JSON text."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal

import polars as pl

from pipeline.ingest.frames import VOICE_RATE_SCHEMA, IngestResult, empty_rejects

# (prefix, destination, price, initial_seconds, increment_seconds, effective_at or None)
VoiceRow = tuple[str, str, str | Decimal, int, int, datetime | None]


def voice_rate_frame(rows: Iterable[VoiceRow], *, currency: str | None = "USD") -> pl.DataFrame:
    """A VOICE_RATE_SCHEMA frame, row numbers from 1, prices exact."""
    records = [
        (n, prefix, destination, Decimal(price), initial, increment, effective_at, currency)
        for n, (prefix, destination, price, initial, increment, effective_at) in enumerate(
            rows, start=1
        )
    ]
    return pl.DataFrame(records, schema=VOICE_RATE_SCHEMA, orient="row")


def ingest_result(rows: pl.DataFrame, rejects: pl.DataFrame | None = None) -> IngestResult:
    """What the voice ingest would return for a CSV deck with these rows and rejects."""
    rejects = empty_rejects() if rejects is None else rejects
    return IngestResult(
        rows=rows, rejects=rejects, source_format="csv", total_rows=rows.height + rejects.height
    )


def increments(text: str) -> tuple[int, int]:
    """ "60/1" -> (60, 1)."""
    initial, increment = text.split("/")
    return int(initial), int(increment)


def sms_rates_json(rates: Mapping[tuple[int, int], Decimal | str]) -> bytes:
    """An SMS rate list as the API writes it: rates as JSON numbers (exact text)."""
    items = [
        f'{{"rate": {rate}, "mcc": {mcc}, "mnc": {mnc}}}' for (mcc, mnc), rate in rates.items()
    ]
    return ("[" + ",\n ".join(items) + "]").encode()
