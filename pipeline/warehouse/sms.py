"""Loading SMS rate snapshots (history in ``sms_rate``) and the ``mcc_mnc`` reference.

The SMS feed is loaded by ``snapshot.py`` like every feed (one transaction, replay a no-op,
rejects in ``ingest_reject`` with kind ``sms``); its prepare hook brings the reference up to
date and names the list from ``mcc_mnc`` (unknown pairs kept, ``known = false``).
"""

from __future__ import annotations

import hashlib
from importlib.resources import as_file
from importlib.resources.abc import Traversable
from typing import Any

import duckdb
import polars as pl

from pipeline.reference import reference_file
from pipeline.warehouse.history import HistorySpec, transaction
from pipeline.warehouse.migrate import read_sql
from pipeline.warehouse.snapshot import (
    IncomingSnapshot,
    SnapshotLoad,
    SnapshotSpec,
    load_snapshot,
)

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


def name_from_reference(con: duckdb.DuckDBPyConnection, incoming: IncomingSnapshot) -> pl.DataFrame:
    """The SMS feed's prepare hook: bring ``mcc_mnc`` up to date, then name the list from it."""
    load_reference_in_transaction(con)
    return name_pairs(con, incoming.result.rows)


SMS_SNAPSHOT = SnapshotSpec(
    kind="sms",
    noun="SMS list",
    history=SMS_RATE_SPEC,
    prepare=name_from_reference,
    known_column="known",
)


def load_sms_snapshot(con: duckdb.DuckDBPyConnection, *, channel: str, **at: Any) -> SnapshotLoad:
    """``load_snapshot`` of one SMS list; ``at``: fetched_at, content_sha256, raw_path, result."""
    return load_snapshot(con, SMS_SNAPSHOT, IncomingSnapshot(source=channel, **at))


def name_pairs(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame) -> pl.DataFrame:
    """SMS rows (SMS_RATE_SCHEMA) keyed by ``mcc_int, mnc_int``, with ``mcc``/``mnc`` as
    published text and country, network and known from ``mcc_mnc``."""
    con.register("sms_rows_incoming", rows.select("mcc", "mnc", "rate").to_arrow())
    try:
        enriched: pl.DataFrame = con.sql(read_sql("queries/sms_enrich.sql")).pl()
        return enriched
    finally:
        con.unregister("sms_rows_incoming")
