"""Loading SMS rate snapshots (history in ``sms_rate``) and the ``mcc_mnc`` reference.

One snapshot = one transaction: the reference is brought up to date, the list is named from
``mcc_mnc`` (unknown pairs kept, ``known = false``), reconciled with the channel's history by
the generic machinery in ``pipeline/warehouse/history.py``, and recorded in ``sms_snapshot``
with its rejects in ``ingest_reject`` (kind ``sms``). Replaying the same raw file is a no-op.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import as_file
from importlib.resources.abc import Traversable
from typing import Any

import duckdb
import polars as pl

from pipeline.ingest.frames import IngestResult
from pipeline.reference import reference_file
from pipeline.warehouse.history import HistorySpec, apply_snapshot, as_utc, transaction
from pipeline.warehouse.migrate import read_sql

MCC_MNC_CSV = reference_file("mcc_mnc.csv")
MCC_MNC = "mcc_mnc"

SMS_RATE_SPEC = HistorySpec(
    table="sms_rate",
    scope_columns=("channel",),
    # the API's integers identify a pair; mcc/mnc text (published digits) is how it is shown
    key_columns=("mcc_int", "mnc_int"),
    # mcc/mnc text, country/network/known are history too: the name a rate carried when seen
    value_columns=("rate", "country", "network", "known", "mcc", "mnc"),
)


@dataclass(frozen=True)
class SmsSnapshotLoad:
    snapshot_id: int
    channel: str
    fetched_at: datetime
    content_sha256: str
    row_count: int
    reject_count: int
    unknown_count: int  # rows whose (mcc, mnc) is not in mcc_mnc (kept, known = false)
    opened: int
    closed: int
    replayed: bool  # True: this raw file was already loaded; nothing changed
    # price changes it brought, (change_type, count): filled in by the stage that loads it
    changes: tuple[tuple[str, int], ...] = ()


def ensure_reference(con: duckdb.DuckDBPyConnection, csv_path: Traversable = MCC_MNC_CSV) -> bool:
    """Load ``mcc_mnc`` from the committed CSV when its sha256 differs from the loaded one.

    Its own transaction; returns True when the table was (re)loaded.
    """
    with transaction(con):
        return load_reference_in_transaction(con, csv_path)


def load_reference_in_transaction(
    con: duckdb.DuckDBPyConnection, csv_path: Traversable = MCC_MNC_CSV
) -> bool:
    """``ensure_reference`` inside the caller's transaction."""
    sha = hashlib.sha256(csv_path.read_bytes()).hexdigest()
    loaded = con.execute(
        "SELECT content_sha256 FROM reference_load WHERE name = ?", [MCC_MNC]
    ).fetchall()
    if loaded and loaded[0][0] == sha:
        return False
    con.execute("DELETE FROM mcc_mnc")
    with as_file(csv_path) as on_disk:  # DuckDB reads a path, not a resource
        con.execute(read_sql("queries/mcc_mnc_load.sql"), [str(on_disk)])
    count = con.execute("SELECT count(*) FROM mcc_mnc").fetchall()[0][0]
    con.execute(
        "INSERT OR REPLACE INTO reference_load VALUES (?, ?, ?, current_timestamp)",
        [MCC_MNC, sha, count],
    )
    return True


def load_sms_snapshot(
    con: duckdb.DuckDBPyConnection,
    *,
    channel: str,
    fetched_at: datetime,
    content_sha256: str,
    raw_path: str,
    result: IngestResult,
) -> SmsSnapshotLoad:
    """Load one SMS list of ``channel`` (``username:id``) in one transaction.

    Raises SnapshotLoadError (rolled back, nothing changed) for a list older than the
    channel's history or a frame that cannot be history.
    """
    fetched_at = as_utc(fetched_at)
    with transaction(con):
        found = con.execute(
            read_sql("queries/sms_snapshot_find.sql"), [channel, fetched_at, content_sha256]
        ).fetchall()
        if found:
            return _replayed(channel, fetched_at, content_sha256, found[0])
        load_reference_in_transaction(con)
        named = name_pairs(con, result.rows)
        snapshot_id = con.execute("SELECT nextval('snapshot_id_seq')").fetchall()[0][0]
        stats = apply_snapshot(
            con,
            SMS_RATE_SPEC,
            {"channel": channel},
            named,
            snapshot_id=snapshot_id,
            fetched_at=fetched_at,
        )
        unknown = named.filter(~pl.col("known")).height
        con.execute(
            read_sql("queries/sms_snapshot_insert.sql"),
            [
                snapshot_id,
                channel,
                fetched_at,
                content_sha256,
                raw_path,
                named.height,
                result.rejects.height,
                unknown,
                stats.opened,
                stats.closed,
            ],
        )
        _insert_rejects(con, result.rejects, channel, snapshot_id, fetched_at, content_sha256)
    return SmsSnapshotLoad(
        snapshot_id=snapshot_id,
        channel=channel,
        fetched_at=fetched_at,
        content_sha256=content_sha256,
        row_count=named.height,
        reject_count=result.rejects.height,
        unknown_count=unknown,
        opened=stats.opened,
        closed=stats.closed,
        replayed=False,
    )


def name_pairs(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame) -> pl.DataFrame:
    """SMS rows (SMS_RATE_SCHEMA) keyed by ``mcc_int, mnc_int``, with ``mcc``/``mnc`` as
    published text and country, network and known from ``mcc_mnc``."""
    con.register("sms_rows_incoming", rows.select("mcc", "mnc", "rate").to_arrow())
    try:
        enriched: pl.DataFrame = con.sql(read_sql("queries/sms_enrich.sql")).pl()
        return enriched
    finally:
        con.unregister("sms_rows_incoming")


def _insert_rejects(
    con: duckdb.DuckDBPyConnection,
    rejects: pl.DataFrame,
    channel: str,
    snapshot_id: int,
    fetched_at: datetime,
    content_sha256: str,
) -> None:
    if rejects.is_empty():
        return
    con.register("sms_rejects_incoming", rejects.to_arrow())
    try:
        con.execute(
            read_sql("queries/sms_reject_insert.sql"),
            [channel, snapshot_id, fetched_at, content_sha256],
        )
    finally:
        con.unregister("sms_rejects_incoming")


def _replayed(
    channel: str, fetched_at: datetime, sha: str, row: tuple[Any, ...]
) -> SmsSnapshotLoad:
    snapshot_id, _raw_path, rows, rejects, unknown, opened, closed = row
    return SmsSnapshotLoad(
        snapshot_id=snapshot_id,
        channel=channel,
        fetched_at=fetched_at,
        content_sha256=sha,
        row_count=rows,
        reject_count=rejects,
        unknown_count=unknown,
        opened=opened,
        closed=closed,
        replayed=True,
    )
