"""The customer's call records in the warehouse: files and calls (append-only), costed days.

``CDR_SNAPSHOT`` is the CDR feed's ``SnapshotSpec``: no history (a file of calls is a fact,
not a snapshot of something that changes), so ``load_snapshot`` hands the file to
``store_cdr_file``: replay check by sha256, calls (each call_id once), the file row, rejects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import duckdb
import polars as pl

from pipeline.warehouse.history import execute_named, transaction
from pipeline.warehouse.migrate import read_sql
from pipeline.warehouse.snapshot import (
    IncomingSnapshot,
    SnapshotLoad,
    SnapshotSpec,
    insert_rejects,
)

CALLS_VIEW = "cdr_incoming"
PRICED_VIEW = "cdr_priced"


@dataclass(frozen=True)
class CallFiles:
    """An append-only feed of call files (the switch's CDRs, the carrier's exports), named by
    convention from ``prefix``: the sequence ``<prefix>_file_id_seq``, the queries
    ``<prefix>_call_insert.sql`` (rows registered as ``calls_view``), ``<prefix>_file_insert.sql``
    and ``<prefix>_file_replay.sql``."""

    prefix: str
    calls_view: str

    def query(self, name: str) -> str:
        return read_sql(f"queries/{self.prefix}_{name}.sql")


CDR_FILES = CallFiles("cdr", CALLS_VIEW)


def store_cdr_file(
    con: duckdb.DuckDBPyConnection, spec: SnapshotSpec, incoming: IncomingSnapshot
) -> SnapshotLoad:
    """Record one CDR file (inside load_snapshot's transaction). The outcome's ``row_count``
    is the calls it added, ``unchanged`` the calls another file already brought."""
    return store_call_file(con, spec, incoming, CDR_FILES)


def store_call_file(
    con: duckdb.DuckDBPyConnection,
    spec: SnapshotSpec,
    incoming: IncomingSnapshot,
    files: CallFiles,
) -> SnapshotLoad:
    """Record one file of ``files``' feed: its calls (each call id once), the file row, the
    rejects; the same bytes stored before change nothing."""
    stored = _stored(con, incoming, files)
    if stored is not None:
        return stored
    [(file_id,)] = execute_named(con, files.query("file_id_next"), {}).fetchall()
    result = incoming.result
    con.register(files.calls_view, result.rows.to_arrow())
    try:
        params = {"file_id": file_id, "file_key": incoming.content_sha256[:16]}
        execute_named(con, files.query("call_insert"), params)
    finally:
        con.unregister(files.calls_view)
    params = {
        "file_id": file_id,
        "content_sha256": incoming.content_sha256,
        "original_name": incoming.original_name or incoming.raw_path,
        "raw_path": incoming.raw_path,
        "source_format": result.source_format,
        "valid_rows": result.rows.height,
        "reject_count": result.rejects.height,
    }
    execute_named(con, files.query("file_insert"), params)
    insert_rejects(con, spec, incoming, file_id)
    added = _stored(con, incoming, files, replayed=False)
    assert added is not None  # just inserted
    return added


def file_days(con: duckdb.DuckDBPyConnection, file_id: int) -> list[str]:
    """The UTC days (YYYY-MM-DD) a file's calls fall on: the partitions it touches."""
    cursor = execute_named(con, read_sql("queries/cdr_file_days.sql"), {"file_id": file_id})
    return [day for (day,) in cursor.fetchall()]


def _stored(
    con: duckdb.DuckDBPyConnection,
    incoming: IncomingSnapshot,
    files: CallFiles,
    *,
    replayed: bool = True,
) -> SnapshotLoad | None:
    """The file already holding these bytes, as a load outcome; None when new."""
    params = {"content_sha256": incoming.content_sha256}
    found = execute_named(con, files.query("file_replay"), params).fetchall()
    if not found:
        return None
    file_id, raw_path, row_count, reject_count, duplicates = found[0]
    return SnapshotLoad(
        snapshot_id=file_id,
        source=incoming.source,
        fetched_at=incoming.fetched_at,
        content_sha256=incoming.content_sha256,
        raw_path=raw_path,
        row_count=row_count,
        reject_count=reject_count,
        opened=row_count,
        closed=0,
        unchanged=duplicates,
        replayed=replayed,
    )


# -- costed days ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Costing:
    """One costing of a day (``costing_run`` None: nothing to cost, nothing logged)."""

    day: date
    costing_run: int | None
    recost: bool
    calls: int
    unmatched: int
    old_total: Decimal | None  # None: the day had never been costed
    new_total: Decimal


def day_calls(con: duckdb.DuckDBPyConnection, day: date, *, recost: bool) -> pl.DataFrame:
    """The billable calls of ``day`` to cost (not yet costed, or all for a recost)."""
    params = {"day": day, "recost": recost}
    frame: pl.DataFrame = con.sql(read_sql("queries/cdr_day_calls.sql"), params=params).pl()
    return frame


def uncosted_days(con: duckdb.DuckDBPyConnection) -> list[date]:
    """Days with billable calls not costed yet, oldest first."""
    return [day for (day,) in con.execute(read_sql("queries/cdr_uncosted_days.sql")).fetchall()]


def record_costs(
    con: duckdb.DuckDBPyConnection,
    day: date,
    priced: pl.DataFrame,
    *,
    recost: bool,
    who: str,
    why: str,
    cost_decimals: int,
) -> Costing:
    """Store ``priced`` (call_id, rated_on and the engine's columns) as the costs of ``day``,
    in one transaction: a recost first removes every cost of the day. Logged with the day's
    total before and after."""
    with transaction(con):
        total, costed = _day_total(con, day)
        if priced.is_empty() and not recost:
            return Costing(day, None, False, 0, 0, total if costed else None, total)
        if recost:
            con.execute("DELETE FROM cdr_cost WHERE call_day = ?", [day])
        [(run,)] = con.execute("SELECT nextval('cdr_costing_run_seq')").fetchall()
        unmatched = priced["cost"].null_count()
        old_total = total if costed else None
        params: dict[str, object] = {
            "costing_run": run,
            "day": day,
            "costed_at": datetime.now(UTC),
            "recost": recost,
            "who": who,
            "why": why,
            "calls": priced.height,
            "unmatched": unmatched,
            "cost_decimals": cost_decimals,
            "old_total": old_total,
        }
        _insert_priced(con, priced, params)
        execute_named(con, read_sql("queries/cdr_costing_log_insert.sql"), params)
        new_total, _ = _day_total(con, day)
    return Costing(day, run, recost, priced.height, unmatched, old_total, new_total)


def _insert_priced(
    con: duckdb.DuckDBPyConnection, priced: pl.DataFrame, params: dict[str, object]
) -> None:
    con.register(PRICED_VIEW, priced.to_arrow())
    try:
        execute_named(con, read_sql("queries/cdr_cost_insert.sql"), params)
    finally:
        con.unregister(PRICED_VIEW)


def _day_total(con: duckdb.DuckDBPyConnection, day: date) -> tuple[Decimal, bool]:
    [(total, costed)] = execute_named(
        con, read_sql("queries/cdr_day_total.sql"), {"day": day}
    ).fetchall()
    return Decimal(total), bool(costed)


CDR_SNAPSHOT = SnapshotSpec(kind="cdr", noun="CDR file", history=None, store=store_cdr_file)
