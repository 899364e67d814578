"""Fixtures for warehouse unit tests: a migrated in-memory warehouse and tiny voice decks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from support.bodies import increments, ingest_result, voice_rate_frame

from pipeline.warehouse.migrate import apply_migrations
from pipeline.warehouse.voice import SnapshotLoad, load_voice_snapshot

# (prefix, price[, destination[, effective_at[, increments "a/b"]]])
Row = tuple


def build_deck(rows: list[Row], *, currency: str | None = "USD") -> pl.DataFrame:
    return voice_rate_frame((_full_row(row) for row in rows), currency=currency)


def _full_row(row: Row) -> tuple:
    """(prefix, price[, destination[, effective_at[, "a/b"]]]) -> a support.bodies VoiceRow."""
    prefix, price, *rest = row
    destination = rest[0] if len(rest) > 0 and rest[0] else f"Dest {prefix}"
    effective_at = rest[1] if len(rest) > 1 else None
    initial, increment = increments(rest[2] if len(rest) > 2 else "1/1")
    return prefix, destination, price, initial, increment, effective_at


@pytest.fixture
def make_deck() -> Callable[..., pl.DataFrame]:
    """make_deck(rows, currency="USD"): a VOICE_RATE_SCHEMA frame from short tuples."""
    return build_deck


@pytest.fixture(scope="session")
def migrated_file(tmp_path_factory) -> Path:
    """A freshly migrated warehouse file, made once; each test works on its own copy."""
    path = tmp_path_factory.mktemp("migrated") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        apply_migrations(connection)
    return path


@pytest.fixture
def con(migrated_file) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse (fast commits), copied from the migrated file. One thread: these
    decks are tiny, and the machine is shared with other test runs."""
    connection = duckdb.connect(config={"threads": 1})
    connection.execute("ATTACH ? AS template (READ_ONLY)", [str(migrated_file)])
    connection.execute("COPY FROM DATABASE template TO memory")
    connection.execute("DETACH template")
    yield connection
    connection.close()


@pytest.fixture
def load(con) -> Callable[..., SnapshotLoad]:
    """load(rows_or_frame, fetched_at, tech_prefix="current", sha=None, rejects=None)."""

    def _load(
        deck: list[Row] | pl.DataFrame,
        fetched_at: datetime,
        *,
        tech_prefix: str = "current",
        sha: str | None = None,
        rejects: pl.DataFrame | None = None,
    ) -> SnapshotLoad:
        frame = deck if isinstance(deck, pl.DataFrame) else build_deck(deck)
        return load_voice_snapshot(
            con,
            tech_prefix=tech_prefix,
            fetched_at=fetched_at,
            content_sha256=sha or f"sha-{tech_prefix}-{fetched_at.isoformat()}",
            raw_path=f"raw/voice/{tech_prefix}/{fetched_at:%Y%m%dT%H%M%S}.csv",
            result=ingest_result(frame, rejects),
        )

    return _load


@pytest.fixture
def rates(con) -> Callable[..., list[tuple]]:
    """rates(prefix=None): every voice_rate version, oldest first, as
    (prefix, price, valid_from, valid_to, withdrawn_at) tuples."""

    def _rates(prefix: str | None = None, tech_prefix: str = "current") -> list[tuple]:
        return con.execute(
            "SELECT prefix, price, valid_from, valid_to, withdrawn_at FROM voice_rate "
            "WHERE tech_prefix = ? AND (? IS NULL OR prefix = ?) "
            "ORDER BY prefix, valid_from, withdrawn_at NULLS FIRST",
            [tech_prefix, prefix, prefix],
        ).fetchall()

    return _rates


@pytest.fixture
def changes(con) -> Callable[..., list[tuple]]:
    """changes(): voice_rate_change as (prefix, change_type, old_price, new_price, changed_at)."""

    def _changes(tech_prefix: str = "current") -> list[tuple]:
        return con.execute(
            "SELECT prefix, change_type, old_price, new_price, changed_at FROM voice_rate_change "
            "WHERE tech_prefix = ? ORDER BY changed_at, prefix, change_type",
            [tech_prefix],
        ).fetchall()

    return _changes
