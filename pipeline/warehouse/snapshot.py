"""Loading one snapshot of any rate feed (a voice deck, an SMS list) into the warehouse.

A feed is declared once, as a ``SnapshotSpec``: its history (``HistorySpec``), its snapshot
table and insert SQL, its kind in ``ingest_reject`` and a ``prepare`` hook for what only that
feed does to its rows. ``load_snapshot`` then does the same for every feed, in ONE transaction:
replay check, time-order rule, history (``history.py``), snapshot row, rejects. Loading the same
raw file again (same source, fetch time and sha256) changes nothing and returns the stored
snapshot; another content at a fetch time already loaded is refused. Any DuckDB failure becomes one ``SnapshotLoadError`` line, rolled back.

An append-only feed (CDR files: facts, not snapshots of something that changes) has no
history: its ``store`` hook records the file, replay check included, in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache

import duckdb
import polars as pl

from pipeline.clock import as_utc
from pipeline.ingest.frames import KEYED_REJECT_SCHEMA, REFUSED_KEY, IngestResult
from pipeline.warehouse.errors import SnapshotLoadError
from pipeline.warehouse.history import (
    HistorySpec,
    HistoryStats,
    apply_snapshot,
    execute_named,
    first_line,
    transaction,
)
from pipeline.warehouse.migrate import read_sql

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
REJECTS_VIEW = "rejects_incoming"


@dataclass(frozen=True)
class IncomingSnapshot:
    """One normalised download on its way into the warehouse."""

    source: str  # the feed's scope: a tech prefix, an SMS channel (username:id)
    fetched_at: datetime
    content_sha256: str
    raw_path: str  # landing-zone file, relative to the data dir
    result: IngestResult
    # the account's currency (report.currency): what a feed that names none is priced in
    account_currency: str | None = None
    original_name: str | None = None  # a pushed file's own name (CDR imports)


# What only one feed does to its rows inside the load transaction (fill a currency, name
# pairs from a reference): (con, incoming) -> the rows its history stores.
PrepareRows = Callable[[duckdb.DuckDBPyConnection, IncomingSnapshot], pl.DataFrame]


# An append-only feed's store: (con, spec, incoming) -> what was recorded (replayed: the same
# bytes were stored before), inside load_snapshot's transaction.
StoreRows = Callable[[duckdb.DuckDBPyConnection, "SnapshotSpec", IncomingSnapshot], "SnapshotLoad"]


def _rows_as_ingested(con: duckdb.DuckDBPyConnection, incoming: IncomingSnapshot) -> pl.DataFrame:
    return incoming.result.rows


@dataclass(frozen=True)
class SnapshotSpec:
    """How one feed's snapshots are stored. By convention a feed of kind ``k`` whose history
    table is ``t`` has the table ``k_snapshot``, the view ``t_change`` and the insert SQL
    ``queries/k_snapshot_insert.sql``; identifiers are validated (they fill SQL templates)."""

    kind: str  # ingest_reject.kind: voice, sms, cdr
    noun: str  # how errors name one snapshot: "voice deck", "SMS list"
    # its single scope column is the snapshot table's source column; None: append-only
    history: HistorySpec | None
    prepare: PrepareRows = _rows_as_ingested
    # a boolean column prepare adds: false marks a row the feed's reference does not know
    known_column: str | None = None
    store: StoreRows | None = None  # an append-only feed's (one without history) store

    def __post_init__(self) -> None:
        if not _IDENTIFIER.match(self.kind):
            raise ValueError(f"SnapshotSpec: not a plain SQL identifier: {self.kind!r}")
        if (self.history is None) == (self.store is None):
            raise ValueError("SnapshotSpec: give a history or (append-only) a store, not both")
        if self.history is not None and len(self.history.scope_columns) != 1:
            raise ValueError("SnapshotSpec: the history must have exactly one scope column")

    @property
    def versioned(self) -> HistorySpec:
        """The history (only feeds with one have change views and a time-order rule)."""
        if self.history is None:
            raise ValueError(f"{self.noun}: an append-only feed has no history")
        return self.history

    @property
    def snapshot_table(self) -> str:
        return f"{self.kind}_snapshot"

    @property
    def change_view(self) -> str:  # price changes: change_type, snapshot_id, source column
        return f"{self.versioned.table}_change"

    @property
    def insert_sql(self) -> str:  # named params, see _snapshot_params
        return f"queries/{self.kind}_snapshot_insert.sql"

    @property
    def scope_column(self) -> str:
        return self.versioned.scope_columns[0]


@dataclass(frozen=True)
class SnapshotLoad:
    """The outcome of ``load_snapshot`` (replayed: the file was loaded before)."""

    snapshot_id: int
    source: str
    fetched_at: datetime
    content_sha256: str
    raw_path: str
    row_count: int
    reject_count: int
    opened: int
    closed: int
    withdrawn: int = 0
    unchanged: int = 0
    unknown_count: int = 0  # rows the feed's reference does not know (kept, flagged)
    kept_refused: int = 0  # versions in force carried forward: their row was refused
    conflicts: int = 0  # rows refused as correcting a stored call (CDR files)
    refused_before: int = 0  # rejects an earlier import refused, not stored again (CDR files)
    replayed: bool = False
    # price changes it brought, (change_type, count): filled in by the stage that loads it
    changes: tuple[tuple[str, int], ...] = ()


def load_snapshot(
    con: duckdb.DuckDBPyConnection, spec: SnapshotSpec, incoming: IncomingSnapshot
) -> SnapshotLoad:
    """Record one downloaded snapshot of ``spec``'s feed; all or nothing.

    Raises SnapshotLoadError (rolled back, nothing changed) for a snapshot older than one
    already loaded of the same source, a frame that cannot be history, or a DuckDB failure.
    """
    incoming = _in_utc(incoming)
    try:
        with transaction(con):
            if spec.store is not None:  # append-only: the store records it (or the replay)
                return spec.store(con, spec, incoming)
            replayed = _replayed(con, spec, incoming)
            if replayed is not None:
                return replayed
            _refuse_other_content_at_the_same_time(con, spec, incoming)
            _refuse_out_of_order(con, spec, incoming)
            return _load_new(con, spec, incoming)
    except duckdb.Error as exc:
        raise SnapshotLoadError(
            f"{spec.noun} {incoming.source} ({incoming.raw_path}): {first_line(exc)}; "
            "nothing was loaded"
        ) from exc


def previous_row_count(
    con: duckdb.DuckDBPyConnection, spec: SnapshotSpec, source: str
) -> int | None:
    """Rows in the latest loaded snapshot of ``source``; None before the first load."""
    if not has_table(con, spec.snapshot_table):
        return None
    rows = execute_named(con, _template("snapshot_latest_rows.sql", spec), {"source": source})
    found = rows.fetchall()
    return int(found[0][0]) if found else None


def snapshot_change_counts(
    con: duckdb.DuckDBPyConnection, spec: SnapshotSpec, source: str, snapshot_id: int
) -> tuple[tuple[str, int], ...]:
    """``((change_type, count), ...)`` one snapshot brought (for run summaries and Dagster
    metadata); empty for a baseline or replay."""
    params = {"source": source, "snapshot_id": snapshot_id}
    rows = execute_named(con, _template("snapshot_changes.sql", spec), params).fetchall()
    return tuple((change_type, int(count)) for change_type, count in rows)


def brought_no_changes(
    con: duckdb.DuckDBPyConnection, spec: SnapshotSpec, loaded: SnapshotLoad
) -> bool:
    """True when the feed's change view holds no change of ``loaded``, known without reading
    it (the view scans the source's whole history): the snapshot touched no version, or it is
    the source's first (the baseline, which no change view reports) and ended no stored one."""
    ended_stored = loaded.closed or loaded.withdrawn
    if not (loaded.opened or ended_stored):
        return True
    if ended_stored:
        return False
    params = {"source": loaded.source, "snapshot_id": loaded.snapshot_id}
    [(earlier,)] = execute_named(con, _template("snapshot_earlier.sql", spec), params).fetchall()
    return not earlier


def refused_keys(
    rejects: pl.DataFrame, key_columns: tuple[str, ...], rows: pl.DataFrame
) -> pl.DataFrame:
    """The history keys of the rejects that name one (``refused_key``: '35389', or '272-3'
    for a key of two columns), typed as the snapshot's rows type them."""
    if REFUSED_KEY not in rejects.columns:
        return pl.DataFrame()
    parts = rejects.select(pl.col(REFUSED_KEY).drop_nulls().str.split("-").alias("parts"))
    return parts.select(
        pl.col("parts").list.get(i, null_on_oob=True).cast(rows.schema[column]).alias(column)
        for i, column in enumerate(key_columns)
    )


def _in_utc(incoming: IncomingSnapshot) -> IncomingSnapshot:
    return replace(incoming, fetched_at=as_utc(incoming.fetched_at))


def _load_new(
    con: duckdb.DuckDBPyConnection, spec: SnapshotSpec, incoming: IncomingSnapshot
) -> SnapshotLoad:
    snapshot_id = con.execute("SELECT nextval('snapshot_id_seq')").fetchall()[0][0]
    rows = spec.prepare(con, incoming)
    stats = apply_snapshot(
        con,
        spec.versioned,
        {spec.scope_column: incoming.source},
        rows,
        snapshot_id=snapshot_id,
        fetched_at=incoming.fetched_at,
        refused=refused_keys(incoming.result.rejects, spec.versioned.key_columns, rows),
    )
    unknown = rows.filter(~pl.col(spec.known_column)).height if spec.known_column else 0
    loaded = SnapshotLoad(
        snapshot_id=snapshot_id,
        source=incoming.source,
        fetched_at=incoming.fetched_at,
        content_sha256=incoming.content_sha256,
        raw_path=incoming.raw_path,
        row_count=rows.height,
        reject_count=incoming.result.rejects.height,
        opened=stats.opened,
        closed=stats.closed,
        withdrawn=stats.withdrawn,
        unchanged=stats.unchanged,
        unknown_count=unknown,
        kept_refused=stats.kept_refused,
    )
    _insert_snapshot(con, spec, _snapshot_params(spec, incoming, loaded, stats))
    insert_rejects(con, spec, incoming, snapshot_id)
    return loaded


def _snapshot_params(
    spec: SnapshotSpec, incoming: IncomingSnapshot, loaded: SnapshotLoad, stats: HistoryStats
) -> dict[str, object]:
    """Everything a snapshot row may record; each feed's insert SQL takes what its table has."""
    rows = incoming.result.rows
    effective = spec.versioned.effective_column
    return {
        "snapshot_id": loaded.snapshot_id,
        "source": incoming.source,
        "fetched_at": incoming.fetched_at,
        "content_sha256": incoming.content_sha256,
        "raw_path": incoming.raw_path,
        "source_format": incoming.result.source_format,
        "row_count": loaded.row_count,
        "reject_count": loaded.reject_count,
        "unknown_count": loaded.unknown_count,
        "rates_opened": stats.opened,
        "rates_closed": stats.closed,
        "rates_withdrawn": stats.withdrawn,
        "rates_unchanged": stats.unchanged,
        "rates_kept_refused": stats.kept_refused,
        "has_effective_dates": effective is not None
        and effective in rows.columns
        and rows[effective].null_count() < rows.height,
    }


def _replayed(
    con: duckdb.DuckDBPyConnection, spec: SnapshotSpec, incoming: IncomingSnapshot
) -> SnapshotLoad | None:
    cursor = execute_named(
        con,
        _template("snapshot_replay.sql", spec),
        {
            "source": incoming.source,
            "fetched_at": incoming.fetched_at,
            "content_sha256": incoming.content_sha256,
        },
    )
    found = cursor.fetchall()
    if not found:
        return None
    stored = dict(zip([column[0] for column in cursor.description], found[0], strict=True))
    return SnapshotLoad(
        snapshot_id=stored["snapshot_id"],
        source=incoming.source,
        fetched_at=incoming.fetched_at,
        content_sha256=incoming.content_sha256,
        raw_path=stored["raw_path"],
        row_count=stored["row_count"],
        reject_count=stored["reject_count"],
        opened=stored["rates_opened"],
        closed=stored["rates_closed"],
        # counts a feed's snapshot table does not keep are 0 (e.g. SMS: no schedules)
        withdrawn=stored.get("rates_withdrawn", 0),
        unchanged=stored.get("rates_unchanged", 0),
        unknown_count=stored.get("unknown_count", 0),
        kept_refused=stored.get("rates_kept_refused", 0),
        replayed=True,
    )


def _refuse_other_content_at_the_same_time(
    con: duckdb.DuckDBPyConnection, spec: SnapshotSpec, incoming: IncomingSnapshot
) -> None:
    """One snapshot per source and fetch time, as for the balance: another content at a time
    already loaded would make a zero-length interval and a phantom change."""
    params = {"source": incoming.source, "fetched_at": incoming.fetched_at}
    found = execute_named(con, _template("snapshot_same_time.sql", spec), params).fetchall()
    if found:
        raise SnapshotLoadError(
            f"{spec.noun} {incoming.source} at {incoming.fetched_at.isoformat()} is already "
            f"loaded from different content ({found[0][0][:16]}, not "
            f"{incoming.content_sha256[:16]}); nothing loaded"
        )


def _refuse_out_of_order(
    con: duckdb.DuckDBPyConnection, spec: SnapshotSpec, incoming: IncomingSnapshot
) -> None:
    """The one time-order rule: nothing older than a snapshot already loaded of the source
    (even one that changed no rate, so left no trace in the history)."""
    params = {"source": incoming.source, "fetched_at": incoming.fetched_at}
    [(newer,)] = execute_named(con, _template("snapshot_newer.sql", spec), params).fetchall()
    if newer is not None:
        raise SnapshotLoadError(
            f"{spec.noun} {incoming.source} fetched at {incoming.fetched_at.isoformat()} is "
            f"older than a snapshot already loaded ({newer}): load snapshots in time order"
        )


def _insert_snapshot(
    con: duckdb.DuckDBPyConnection, spec: SnapshotSpec, params: dict[str, object]
) -> None:
    execute_named(con, read_sql(spec.insert_sql), params)


def insert_rejects(
    con: duckdb.DuckDBPyConnection,
    spec: SnapshotSpec,
    incoming: IncomingSnapshot,
    snapshot_id: int,
) -> None:
    """The rows ingest refused, in ingest_reject under ``snapshot_id`` (a feed's own id)."""
    rejects = incoming.result.rejects
    if rejects.is_empty():
        return
    if REFUSED_KEY not in rejects.columns:  # a feed whose rows name no key (CDR files)
        rejects = rejects.with_columns(pl.lit(None, dtype=pl.String).alias(REFUSED_KEY))
    keyed = rejects.select(list(KEYED_REJECT_SCHEMA)).cast(KEYED_REJECT_SCHEMA)
    con.register(REJECTS_VIEW, keyed.to_arrow())
    try:
        params = {
            "kind": spec.kind,
            "source": incoming.source,
            "snapshot_id": snapshot_id,
            "fetched_at": incoming.fetched_at,
            "content_sha256": incoming.content_sha256,
        }
        execute_named(con, read_sql("queries/ingest_reject_insert.sql"), params)
    finally:
        con.unregister(REJECTS_VIEW)


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether a table of that name exists (in any attached database)."""
    rows = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]
    ).fetchall()
    return bool(rows[0][0])


@cache
def _template(name: str, spec: SnapshotSpec) -> str:
    """A sql/queries/ template with the spec's (validated) table, view and source column."""
    names = {
        "snapshot_table": spec.snapshot_table,
        "change_view": spec.change_view,
        "scope_column": spec.scope_column,
    }
    return read_sql(f"queries/{name}").format_map({k: f'"{v}"' for k, v in names.items()})
