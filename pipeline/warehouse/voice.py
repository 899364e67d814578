"""Loading one voice deck snapshot into the warehouse, and small reads the pipeline needs.

A snapshot is loaded in ONE transaction: the ``voice_snapshot`` row, the ``voice_rate`` history
(see ``history.py``) and the ``ingest_reject`` rows. Loading the same raw file again (same
tech prefix, fetch time and sha256) changes nothing and returns the stored snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import polars as pl

from pipeline.ingest.frames import REJECT_SCHEMA, IngestResult
from pipeline.warehouse.errors import SnapshotLoadError
from pipeline.warehouse.history import (
    HistorySpec,
    HistoryStats,
    apply_snapshot,
    as_utc,
    transaction,
)
from pipeline.warehouse.migrate import read_sql

VOICE_RATE_SPEC = HistorySpec(
    table="voice_rate",
    scope_columns=("tech_prefix",),
    key_columns=("prefix",),
    value_columns=("destination", "price", "initial_seconds", "increment_seconds", "currency"),
    effective_column="effective_at",
)
_REJECTS_VIEW = "voice_rejects_incoming"


@dataclass(frozen=True)
class SnapshotLoad:
    """The outcome of ``load_voice_snapshot`` (replayed: the file was loaded before)."""

    snapshot_id: int
    tech_prefix: str
    fetched_at: datetime
    content_sha256: str
    raw_path: str
    row_count: int
    reject_count: int
    opened: int
    closed: int
    withdrawn: int
    unchanged: int
    replayed: bool = False
    # price changes it brought, (change_type, count): filled in by the stage that loads it
    changes: tuple[tuple[str, int], ...] = ()


def load_voice_snapshot(
    con: duckdb.DuckDBPyConnection,
    *,
    tech_prefix: str,
    fetched_at: datetime,
    content_sha256: str,
    raw_path: str,
    result: IngestResult,
    default_currency: str | None = None,
) -> SnapshotLoad:
    """Record one downloaded deck; all or nothing. Raises SnapshotLoadError (rolled back).

    ``default_currency`` (the account's, ``report.currency``) is the currency of every row
    whose deck names none; stored versions of the tech prefix without a currency get it too
    (see ``_fill_currency``).
    """
    fetched_at = as_utc(fetched_at)
    rows = _with_currency(result.rows, default_currency)
    key = [tech_prefix, fetched_at, content_sha256]
    try:
        with transaction(con):
            found = con.execute(
                read_sql("queries/voice_snapshot_find.sql"), [*key, fetched_at, tech_prefix]
            ).fetchall()
            if found and found[0][0] == "replay":
                return _replayed(found[0][1:9], tech_prefix, fetched_at, content_sha256)
            if found:
                raise SnapshotLoadError(
                    f"voice deck {tech_prefix} fetched at {fetched_at.isoformat()} is older than "
                    f"a snapshot already loaded ({found[0][9]}): load snapshots in time order"
                )
            snapshot_id = con.execute("SELECT nextval('snapshot_id_seq')").fetchall()[0][0]
            _fill_currency(con, tech_prefix, default_currency)
            stats = apply_snapshot(
                con,
                VOICE_RATE_SPEC,
                {"tech_prefix": tech_prefix},
                rows,
                snapshot_id=snapshot_id,
                fetched_at=fetched_at,
            )
            _insert_snapshot(
                con, snapshot_id, tech_prefix, fetched_at, content_sha256, raw_path, result, stats
            )
            _insert_rejects(
                con, result.rejects, [tech_prefix, snapshot_id, fetched_at, content_sha256]
            )
    except duckdb.Error as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SnapshotLoadError(
            f"voice deck {tech_prefix} ({raw_path}): {text}; nothing was loaded"
        ) from exc
    return SnapshotLoad(
        snapshot_id=snapshot_id,
        tech_prefix=tech_prefix,
        fetched_at=fetched_at,
        content_sha256=content_sha256,
        raw_path=raw_path,
        row_count=result.rows.height,
        reject_count=result.rejects.height,
        opened=stats.opened,
        closed=stats.closed,
        withdrawn=stats.withdrawn,
        unchanged=stats.unchanged,
    )


def previous_row_count(con: duckdb.DuckDBPyConnection, tech_prefix: str) -> int | None:
    """Rows in the latest loaded deck of ``tech_prefix``; None before the first load."""
    if not _has_table(con, "voice_snapshot"):
        return None
    rows = con.execute(read_sql("queries/voice_snapshot_latest.sql"), [tech_prefix]).fetchall()
    return int(rows[0][0]) if rows else None


def deck_at(con: duckdb.DuckDBPyConnection, tech_prefix: str, at: datetime) -> pl.DataFrame:
    """The deck of ``tech_prefix`` as it stood (or is scheduled to stand) at ``at``.

    Columns: prefix, destination, price, initial_seconds, increment_seconds, currency,
    effective_at, valid_from, valid_to; sorted by prefix.
    """
    deck: pl.DataFrame = con.sql(
        read_sql("queries/voice_deck_at.sql"), params=[as_utc(at), tech_prefix]
    ).pl()
    return deck


def _with_currency(rows: pl.DataFrame, default_currency: str | None) -> pl.DataFrame:
    if default_currency is None:
        return rows
    return rows.with_columns(pl.col("currency").fill_null(default_currency))


def _fill_currency(
    con: duckdb.DuckDBPyConnection, tech_prefix: str, default_currency: str | None
) -> None:
    """Give the tech prefix's stored versions without a currency the account's currency.

    They were loaded before the loader filled it in: their decks named no currency, so they
    were priced in the account's currency all along (the email always labelled them with it).
    Only NULL is filled, no price or date moves; without it every row would look changed
    (NULL -> USD) and be re-versioned by the first load after the upgrade.
    """
    if default_currency is not None:
        con.execute(read_sql("queries/voice_currency_fill.sql"), [default_currency, tech_prefix])


def _replayed(
    row: tuple[Any, ...], tech_prefix: str, fetched_at: datetime, sha: str
) -> SnapshotLoad:
    snapshot_id, raw_path, rows, rejects, opened, closed, withdrawn, unchanged = row
    return SnapshotLoad(
        snapshot_id=snapshot_id,
        tech_prefix=tech_prefix,
        fetched_at=fetched_at,
        content_sha256=sha,
        raw_path=raw_path,
        row_count=rows,
        reject_count=rejects,
        opened=opened,
        closed=closed,
        withdrawn=withdrawn,
        unchanged=unchanged,
        replayed=True,
    )


def _insert_snapshot(
    con: duckdb.DuckDBPyConnection,
    snapshot_id: int,
    tech_prefix: str,
    fetched_at: datetime,
    content_sha256: str,
    raw_path: str,
    result: IngestResult,
    stats: HistoryStats,
) -> None:
    has_effective = (
        "effective_at" in result.rows.columns
        and result.rows["effective_at"].null_count() < result.rows.height
    )
    con.execute(
        read_sql("queries/voice_snapshot_insert.sql"),
        [
            snapshot_id,
            tech_prefix,
            fetched_at,
            content_sha256,
            raw_path,
            result.source_format,
            result.rows.height,
            result.rejects.height,
            stats.opened,
            stats.closed,
            stats.withdrawn,
            stats.unchanged,
            has_effective,
        ],
    )


def _insert_rejects(
    con: duckdb.DuckDBPyConnection, rejects: pl.DataFrame, params: list[Any]
) -> None:
    if rejects.is_empty():
        return
    frame = rejects.select(list(REJECT_SCHEMA)).cast(REJECT_SCHEMA)
    con.register(_REJECTS_VIEW, frame.to_arrow())
    try:
        con.execute(read_sql("queries/voice_reject_insert.sql"), params)
    finally:
        con.unregister(_REJECTS_VIEW)


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]
    ).fetchall()
    return bool(rows[0][0])
