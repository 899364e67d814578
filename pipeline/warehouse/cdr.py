"""The customer's call records in the warehouse: files and calls (append-only), costed days.

``CDR_SNAPSHOT`` is the CDR feed's ``SnapshotSpec``: no history (a file of calls is a fact,
not a snapshot of something that changes), so ``load_snapshot`` hands the file to
``store_cdr_file``: replay check by sha256, calls (each call once; a corrected call, refused
as a conflict), the file row, rejects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import duckdb
import polars as pl

from pipeline.warehouse.errors import WarehouseError
from pipeline.warehouse.history import execute_named, transaction
from pipeline.warehouse.migrate import read_sql
from pipeline.warehouse.snapshot import (
    REJECTS_VIEW,
    IncomingSnapshot,
    SnapshotLoad,
    SnapshotSpec,
    has_table,
    insert_rejects,
)

CALLS_VIEW = "cdr_incoming"
STAGED_VIEW = "cdr_staged"  # a day's priced rows, as the cdr_cost_*.sql queries name them
DAY_COUNTS_VIEW = "cdr_day_fresh"  # cdr_day's recounted rows, as cdr_day_refresh.sql names them
EVERY_DAY = {"first_day": date.min, "last_day": date.max}


def recount_days(con: duckdb.DuckDBPyConnection, first_day: date, last_day: date) -> None:
    """Recount cdr_day's rows of the UTC days ``first_day``..``last_day`` from their calls and
    costs: run by the import and the costing inside their own transaction, after they wrote
    those days, so cdr_day commits (or rolls back) with them and always equals the counts."""
    params = {"first_day": first_day, "last_day": last_day}
    counts = con.sql(read_sql("queries/cdr_day_counts.sql"), params=params)
    con.register(DAY_COUNTS_VIEW, counts.to_arrow_table())
    try:
        execute_named(con, read_sql("queries/cdr_day_refresh.sql"), params)
    finally:
        con.unregister(DAY_COUNTS_VIEW)


def count_days_of_older_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    """Readers do not migrate: a warehouse an older ratedeck left (CDR tables, no cdr_day:
    before migration 105, until the next writer) gets ``cdr_day`` on ``con`` only, counted from
    every stored call as the queries did before, so what reads it answers the same."""
    if has_table(con, "cdr_day") or not has_table(con, "cdr_call"):
        return
    counts = con.sql(read_sql("queries/cdr_day_counts.sql"), params=EVERY_DAY)
    con.register("cdr_day", counts.to_arrow_table())


@dataclass(frozen=True)
class CallFiles:
    """An append-only feed of call files (the switch's CDRs, the carrier's exports), named by
    convention from ``prefix``: the sequence ``<prefix>_file_id_seq``, the queries
    ``<prefix>_call_insert.sql`` (rows registered as ``calls_view``),
    ``<prefix>_call_conflict_insert.sql`` (the rows left out that correct a stored call),
    ``<prefix>_file_insert.sql`` and ``<prefix>_file_replay.sql``. ``recount``: what recounts
    per-day figures of the days a file's calls fall on, once they are inserted (the switch's:
    ``recount_days``)."""

    prefix: str
    calls_view: str
    recount: Callable[[duckdb.DuckDBPyConnection, date, date], None] | None = None
    # whether a reject an earlier import refused is counted apart, not stored again
    # (``<prefix>_reject_refused_before.sql``; a grown append-only file holds its bad rows again)
    rejects_once: bool = False

    def query(self, name: str) -> str:
        return read_sql(f"queries/{self.prefix}_{name}.sql")


CDR_FILES = CallFiles("cdr", CALLS_VIEW, recount=recount_days, rejects_once=True)


def store_cdr_file(
    con: duckdb.DuckDBPyConnection, spec: SnapshotSpec, incoming: IncomingSnapshot
) -> SnapshotLoad:
    """Record one CDR file (inside load_snapshot's transaction). The outcome's ``row_count``
    is the calls it added, ``unchanged`` the calls left out as already stored or repeated in
    the file with the same values (cdr_file.duplicate_count), ``conflicts`` the rows refused
    as a stored call with other values (cdr_file.conflict_count, docs/cdr.md#corrected-calls)."""
    return store_call_file(con, spec, incoming, CDR_FILES)


def store_call_file(
    con: duckdb.DuckDBPyConnection,
    spec: SnapshotSpec,
    incoming: IncomingSnapshot,
    files: CallFiles,
) -> SnapshotLoad:
    """Record one file of ``files``' feed: its calls (each call once: a call is its id on its
    UTC day, see ``<prefix>_call_insert.sql``), its conflicts (the same id with other values),
    the file row, the rejects; the same bytes stored before change nothing."""
    stored = _stored(con, incoming, files)
    if stored is not None:
        return stored
    [(file_id,)] = execute_named(con, files.query("file_id_next"), {}).fetchall()
    result = incoming.result
    first_day, last_day = call_days(result.rows)
    con.register(files.calls_view, result.rows.to_arrow())
    try:
        params = {
            "file_id": file_id,
            "first_day": first_day,
            "last_day": last_day,
        }
        [(inserted,)] = execute_named(con, files.query("call_insert"), params).fetchall()
        conflicts = 0
        if inserted < result.rows.height:  # else no row was left out: none can conflict
            conflicts = _refuse_conflicts(con, spec, incoming, files, params)
    finally:
        con.unregister(files.calls_view)
    if files.recount is not None and first_day is not None and last_day is not None:
        files.recount(con, first_day, last_day)
    incoming, refused_before = _without_rejects_refused_before(con, spec, incoming, files)
    result = incoming.result
    params = {
        "file_id": file_id,
        "content_sha256": incoming.content_sha256,
        "original_name": incoming.original_name or incoming.raw_path,
        "raw_path": incoming.raw_path,
        "source_format": result.source_format,
        "valid_rows": result.rows.height,
        "reject_count": result.rejects.height,
        "conflict_count": conflicts,
        "refused_before_count": refused_before,
    }
    execute_named(con, files.query("file_insert"), params)
    insert_rejects(con, spec, incoming, file_id)
    added = _stored(con, incoming, files, replayed=False)
    assert added is not None  # just inserted
    return added


def _without_rejects_refused_before(
    con: duckdb.DuckDBPyConnection,
    spec: SnapshotSpec,
    incoming: IncomingSnapshot,
    files: CallFiles,
) -> tuple[IncomingSnapshot, int]:
    """``incoming`` without the rejects an earlier import already refused (the same raw record
    at the same row: a grown append-only file's earlier bad rows), and how many those were; so
    summing reject counts over files counts each bad row once (docs/cdr.md#bad-rows)."""
    rejects = incoming.result.rejects
    if not files.rejects_once or rejects.is_empty():
        return incoming, 0
    params = {"kind": spec.kind, "source": incoming.source}
    with registered(con, REJECTS_VIEW, rejects.select("row_number", "raw")):
        sql = files.query("reject_refused_before")
        seen = [row for (row,) in execute_named(con, sql, params).fetchall()]
    if not seen:
        return incoming, 0
    kept = rejects.filter(~pl.col("row_number").is_in(seen))
    return replace(incoming, result=replace(incoming.result, rejects=kept)), len(seen)


def _refuse_conflicts(
    con: duckdb.DuckDBPyConnection,
    spec: SnapshotSpec,
    incoming: IncomingSnapshot,
    files: CallFiles,
    params: dict[str, object],
) -> int:
    """The rows the insert left out that correct a stored call (same id, other values), into
    ingest_reject with what differs; how many. Set-based, on the file's days only, as the
    insert (``<prefix>_call_conflict_insert.sql``)."""
    rejects = {
        "kind": spec.kind,
        "source": incoming.source,
        "fetched_at": incoming.fetched_at,
        "content_sha256": incoming.content_sha256,
    }
    sql = files.query("call_conflict_insert")
    [(refused,)] = execute_named(con, sql, {**params, **rejects}).fetchall()
    return int(refused)


def first_rejects(
    con: duckdb.DuckDBPyConnection, kind: str, file_id: int, limit: int
) -> list[tuple[int, str]]:
    """(row, reason) of a file's first ``limit`` refused rows, ingest's and conflicts alike."""
    params = {"kind": kind, "file_id": file_id, "limit": limit}
    cursor = execute_named(con, read_sql("queries/call_file_rejects.sql"), params)
    return [(int(row), str(reason)) for row, reason in cursor.fetchall()]


def call_days(rows: pl.DataFrame) -> tuple[date | None, date | None]:
    """The UTC days of the first and last calls of ``rows`` (``started_at``); None, None for
    no row. An import looks for the calls it repeats on those days only (a day either side),
    given as constants so that DuckDB's zone maps on ``call_day`` skip every other day."""
    day = pl.col("started_at").dt.convert_time_zone("UTC").dt.date()
    first, last = rows.select(day.min(), day.max().alias("last")).row(0)
    return first, last


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
    file_id, raw_path, row_count, reject_count, duplicates, conflicts, refused_before = found[0]
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
        conflicts=conflicts,
        refused_before=refused_before,
        replayed=replayed,
    )


# -- costed days ----------------------------------------------------------------------------
# Costing a day is three steps (docs/cdr.md#costing-a-day-read-price-commit): ``read_day``
# takes, in one read of the warehouse, everything the costing uses (the day's calls, the rate
# versions in force that day, and ``day_inputs``); the pricing then runs without the writer
# lock; ``record_costs`` commits its rows in one transaction, under the writer lock, after
# ``day_inputs`` showed that nothing the read saw changed in between.


@dataclass(frozen=True)
class Costing:
    """One costing of a day (``costing_run`` None: nothing to cost, nothing logged).
    ``recomputed``: what the costing read changed before its commit (a deck, a route, calls
    or another costing of the day), so the day was costed again under the writer lock."""

    day: date
    costing_run: int | None
    recost: bool
    calls: int
    unmatched: int
    old_total: Decimal | None  # None: the day had never been costed
    new_total: Decimal
    recomputed: bool = False


@dataclass(frozen=True)
class CostingRequest:
    """How ``record_costs`` stores and logs a day's staged costs: a recost (replacing every
    cost of the day) or a costing of new calls, by ``who`` for ``why``, at ``cost_decimals``
    (logged with the run)."""

    recost: bool
    who: str
    why: str
    cost_decimals: int


@dataclass(frozen=True)
class DayRead:
    """What costing one day reads, all from one state of the warehouse: the calls to cost
    (``day_calls``), the rate versions in force that day (``cdr_day_versions.sql``) and the
    fingerprint of both (``day_inputs``)."""

    day: date
    recost: bool
    calls: pl.DataFrame
    versions: pl.DataFrame
    inputs: tuple[object, ...]


def day_bounds(day: date) -> dict[str, datetime]:
    """The UTC day as [day_start, day_end) parameters."""
    start = datetime.combine(day, time(), UTC)
    return {"day_start": start, "day_end": start + timedelta(days=1)}


def read_day(con: duckdb.DuckDBPyConnection, day: date, *, recost: bool) -> DayRead:
    """Everything costing ``day`` reads, in one transaction (``con`` read-only)."""
    with transaction(con):
        inputs = day_inputs(con, day, recost=recost)
        calls = day_calls(con, day, recost=recost)
        versions: pl.DataFrame = con.sql(
            read_sql("queries/cdr_day_versions.sql"), params=day_bounds(day)
        ).pl()
    return DayRead(day, recost, calls, versions, inputs)


def day_inputs(con: duckdb.DuckDBPyConnection, day: date, *, recost: bool) -> tuple[object, ...]:
    """A fingerprint of what costing ``day`` depends on: counts and sums of row hashes of the
    day's calls (and, for new calls only, which are costed), of what routes them to a deck,
    and of the rate versions in force that day. Equal fingerprints: the costing would price
    the same calls the same way (up to a 64-bit hash collision of the changed rows)."""
    params = {"day": day, "recost": recost}
    [others] = execute_named(con, read_sql("queries/cdr_day_inputs.sql"), params).fetchall()
    versions = con.sql(read_sql("queries/cdr_day_versions.sql"), params=day_bounds(day))
    [prices] = versions.aggregate("count(*), sum(hash(COLUMNS(*))::HUGEINT)").fetchall()
    return (*others, *prices)


def day_calls(con: duckdb.DuckDBPyConnection, day: date, *, recost: bool) -> pl.DataFrame:
    """The billable calls of ``day`` to cost (not yet costed, or all for a recost)."""
    params = {"day": day, "recost": recost}
    frame: pl.DataFrame = con.sql(read_sql("queries/cdr_day_calls.sql"), params=params).pl()
    return frame


def uncosted_days(con: duckdb.DuckDBPyConnection) -> list[date]:
    """Days with billable calls not costed yet, oldest first."""
    count_days_of_older_warehouse(con)
    return [day for (day,) in con.execute(read_sql("queries/cdr_uncosted_days.sql")).fetchall()]


def record_costs(
    con: duckdb.DuckDBPyConnection, day: date, staged: pl.DataFrame, request: CostingRequest
) -> Costing:
    """Store the staged cdr_cost rows of ``day`` (``analytics.cdr.cost_rows``' columns) in one
    transaction: a recost replaces every cost of the day, a costing of new calls adds theirs.
    Logged with the day's total before and after. Staged rows that repeat a call_id are
    refused (``WarehouseError``, nothing stored): cdr_cost has no key, the costing keeps
    each call (its call_id on ``day``) once (schema/100_cdr_cost_no_key.sql)."""
    with transaction(con):
        return store_costs(con, day, staged, request)


def store_costs(
    con: duckdb.DuckDBPyConnection, day: date, staged: pl.DataFrame, request: CostingRequest
) -> Costing:
    """``record_costs`` inside the caller's transaction (``cdr correct`` recosts the days it
    corrected in the transaction that corrects them)."""
    repeated = staged["call_id"].filter(staged["call_id"].is_duplicated())
    if len(repeated):
        raise WarehouseError(f"costing {day}: call {repeated[0]!r} staged twice; nothing stored")
    with registered(con, STAGED_VIEW, staged):
        return _record_staged(con, day, request)


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> Iterator[None]:
    """``frame`` registered on ``con`` as ``name`` inside an open transaction. After a
    failure it stays registered: DuckDB refuses even ``unregister`` in an aborted
    transaction, and that error would hide the real one; the caller rolls back, and the
    next ``register`` of the name replaces it."""
    con.register(name, frame.to_arrow())
    yield
    con.unregister(name)


def _record_staged(con: duckdb.DuckDBPyConnection, day: date, request: CostingRequest) -> Costing:
    recost = request.recost
    total, costed = _day_total(con, day)
    [(calls, unmatched)] = con.execute(read_sql("queries/cdr_staged_counts.sql")).fetchall()
    if calls == 0 and not recost:
        return Costing(day, None, False, 0, 0, total if costed else None, total)
    [(run,)] = con.execute("SELECT nextval('cdr_costing_run_seq')").fetchall()
    old_total = total if costed else None
    params: dict[str, object] = {
        "costing_run": run,
        "day": day,
        "costed_at": datetime.now(UTC),
        "recost": recost,
        "who": request.who,
        "why": request.why,
        "calls": calls,
        "unmatched": unmatched,
        "cost_decimals": request.cost_decimals,
        "old_total": old_total,
    }
    if recost:
        execute_named(con, read_sql("queries/cdr_cost_recost.sql"), params)
        execute_named(con, read_sql("queries/cdr_cost_unstaged_delete.sql"), params)
    execute_named(con, read_sql("queries/cdr_cost_insert.sql"), params)
    recount_days(con, day, day)
    execute_named(con, read_sql("queries/cdr_costing_log_insert.sql"), params)
    new_total, _ = _day_total(con, day)
    return Costing(day, run, recost, calls, unmatched, old_total, new_total)


def _day_total(con: duckdb.DuckDBPyConnection, day: date) -> tuple[Decimal, bool]:
    [(total, costed)] = execute_named(
        con, read_sql("queries/cdr_day_total.sql"), {"day": day}
    ).fetchall()
    return Decimal(total), bool(costed)


CDR_SNAPSHOT = SnapshotSpec(kind="cdr", noun="CDR file", history=None, store=store_cdr_file)
