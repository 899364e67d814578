"""Dated voice decks as CSV text, through real ingest and the real loader: for tests of what a
history of decks does to voice_rate_change and the report ledger."""

from __future__ import annotations

from datetime import datetime

import duckdb

from pipeline.ingest.voice import normalize_voice_deck
from pipeline.warehouse.snapshot import SnapshotLoad
from pipeline.warehouse.voice import load_voice_snapshot


def csv_deck(*rows: tuple[str, str, str, str]) -> bytes:
    """rows: (destination, prefix, price, effective date YYYY-MM-DD)."""
    lines = ["Destination,Prefix,Price,Effective Date"]
    lines += [f"{dest},{prefix},{price},{eff}" for dest, prefix, price, eff in rows]
    return ("\n".join(lines) + "\n").encode()


def load_csv_deck(
    con: duckdb.DuckDBPyConnection, data: bytes, fetched_at: datetime
) -> SnapshotLoad:
    """One download of the tech prefix "current" at fetched_at."""
    source = f"raw/voice/current/{fetched_at:%Y%m%dT%H%M}.csv"
    return load_voice_snapshot(
        con,
        tech_prefix="current",
        fetched_at=fetched_at,
        content_sha256=f"sha-{fetched_at.isoformat()}",
        raw_path=source,
        result=normalize_voice_deck(data, source=source, fetched_at=fetched_at),
    )
