"""The CDR feed: the customer's switch exports, imported (not fetched) and costed per day.

Import: file -> landing zone (immutable, sha256; the same bytes land once) -> pure ingest
(``ingest/cdr.py``) -> staged -> ``load_snapshot`` (``warehouse/cdr.py``: append-only).
Costing: the billable calls of one UTC day, each at its own start time, by the one engine
(``analytics/cdr.py``); a costed day is never re-costed unless asked (``recost``), and every
costing is logged (``cdr_costing_log``). A day is priced from one read of the warehouse
without the writer lock, and only its commit takes the lock (``stage_day``, ``commit_day``),
so the days of a backfill price side by side. No Dagster here: ``defs/cdr.py`` and the CLI
wrap it.
"""

from __future__ import annotations

import getpass
import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from pipeline import clock
from pipeline.analytics.cdr import cost_rows, pricing_connection
from pipeline.errors import InputError
from pipeline.ingest.cdr import (
    END_OF_STARTS,
    FIRST_START,
    GenericColumns,
    Routing,
    ingest_cdr,
)
from pipeline.ingest.frames import IngestResult
from pipeline.landing import LandedFile, LandingZone
from pipeline.settings import Settings
from pipeline.stages import feed as stages
from pipeline.warehouse.cdr import (
    CDR_SNAPSHOT,
    Costing,
    CostingRequest,
    day_calls,
    day_inputs,
    file_days,
    first_rejects,
    read_day,
    record_costs,
    uncosted_days,
)
from pipeline.warehouse.db import DEFAULT_LOCK_TIMEOUT_S, Warehouse
from pipeline.warehouse.snapshot import SnapshotLoad, load_snapshot

PARQUET_SUFFIXES = (".parquet", ".pq")
PREVIEWED_REJECTS = 5  # an import's outcome names its first refused rows, the rest are counted


def ingest_cdr_file(settings: Settings, landed: LandedFile) -> IngestResult:
    """The pure ingest of one landed CDR file, with the [cdr] settings."""
    cdr = settings.cdr
    columns = cdr.columns
    return ingest_cdr(
        landed.read_bytes(),
        source=landed.relative_path,
        cdr_format=cdr.format,
        routing=Routing(settings.voice.tech_prefixes, settings.cdr_default_tech_prefix),
        timezone=cdr.timezone,
        columns=GenericColumns(
            columns.number,
            columns.seconds,
            columns.started_at,
            columns.tech_prefix,
            columns.call_id,
        ),
        parquet=landed.path.suffix == ".parquet",
    )


CDR = stages.FeedSpec(
    snapshot=CDR_SNAPSHOT,
    ingest=ingest_cdr_file,
    partition_keys=lambda settings: [],  # daily partitions, see defs/cdr.py
)


@dataclass(frozen=True)
class CdrImport:
    """What importing one file did (``replayed``: the same bytes were imported before)."""

    path: Path
    file_id: int
    raw_path: str
    replayed: bool
    calls: int
    duplicates: int  # left out as already stored or repeated in the file, the same values
    rejects: int
    days: tuple[str, ...]  # UTC days its calls fall on
    # (row, reason) of the first few refused rows: rejects and conflicts, in file order
    rejects_preview: tuple[tuple[int, str], ...] = ()
    conflicts: int = 0  # refused: a call stored under the same id with other values
    refused_before: int = 0  # rejects an earlier import refused (a grown file): not stored again
    days_ahead: tuple[str, ...] = ()  # of ``days``, those after today (a clock running ahead)


def import_file(
    settings: Settings,
    path: Path,
    *,
    now: datetime | None = None,
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
) -> CdrImport:
    """Land, ingest and load one CDR file. Raises InputError (one line, naming the file and
    row) for a file that cannot be read or has too many bad rows, WarehouseLockedError when
    another writer holds the warehouse longer than ``lock_timeout_s``."""
    data = read_call_file(path)
    Warehouse(settings).refuse_newer()  # before landing a copy the warehouse will not take
    landed = land(settings, data, ext="parquet" if _is_parquet(path) else "csv", now=now)
    try:
        staged = stages.normalise(settings, CDR, landed)
    except InputError as exc:  # name the file as the user knows it (the message has the copy)
        raise type(exc)(f"{path}: {exc}") from None
    incoming = replace(stages.incoming(settings, staged), original_name=path.name)
    with Warehouse(settings, lock_timeout_s=lock_timeout_s).writer() as con:
        loaded = load_snapshot(con, CDR_SNAPSHOT, incoming)
        days = file_days(con, loaded.snapshot_id)
        refused = first_rejects(con, CDR_SNAPSHOT.kind, loaded.snapshot_id, PREVIEWED_REJECTS)
    return import_outcome(path, loaded, days, refused, now=now)


def import_outcome(
    path: Path,
    loaded: SnapshotLoad,
    days: list[str],
    refused: list[tuple[int, str]],
    *,
    now: datetime | None = None,
) -> CdrImport:
    """What importing ``path`` did, with its first few refused rows (row, reason), and the
    days after ``now``'s UTC day (default: the clock's) its calls fall on."""
    today = clock.as_utc(now or clock.utc_now()).date().isoformat()
    return CdrImport(
        path=path,
        file_id=loaded.snapshot_id,
        raw_path=loaded.raw_path,
        replayed=loaded.replayed,
        calls=loaded.row_count,
        duplicates=loaded.unchanged,
        rejects=loaded.reject_count,
        days=tuple(days),
        rejects_preview=tuple(refused),
        conflicts=loaded.conflicts,
        refused_before=loaded.refused_before,
        days_ahead=tuple(day for day in days if day > today),  # ISO days sort as text
    )


def land(
    settings: Settings,
    data: bytes,
    *,
    ext: str,
    now: datetime | None = None,
    source: str | None = None,
) -> LandedFile:
    """Keep the bytes in the landing zone under raw/cdr/<source>/ (default: the [cdr] format;
    carrier exports: ``carrier``); bytes landed before (same sha256) are not landed again:
    their first copy is returned."""
    zone = LandingZone(settings.data_dir)
    source = source or settings.cdr.format
    sha256 = hashlib.sha256(data).hexdigest()
    data_dir = settings.data_dir.resolve()  # the folder comes back resolved
    for candidate in sorted(zone.folder("cdr", source).glob(f"*-{sha256[:16]}.{ext}")):
        landed = zone.open_landed("cdr", source, str(candidate.relative_to(data_dir)))
        if landed.sha256 == sha256:
            return landed
    return zone.store_bytes("cdr", source, data, ext=ext, fetched_at=now or datetime.now(UTC))


def cost_days(
    settings: Settings,
    days: list[date] | None = None,
    *,
    recost: bool = False,
    who: str | None = None,
    why: str = "",
) -> list[Costing]:
    """Cost the billable calls of each day not costed yet (``days`` None: every day that has
    some). ``recost``: replace every cost of the day instead (a backfill: a price that changed
    later, a corrected deck). Each day is priced outside the writer lock (``stage_day``) and
    committed in one short transaction under it (``commit_day``); every costing is logged.
    A day no call can start on (``call_day_problem``) is an InputError, before anything is
    costed; left out of ``days`` None (calls an older release let in: they cannot be costed)."""
    Warehouse(settings).refuse_newer()  # its publish would drop what a newer ratedeck wrote
    if days is None:
        with Warehouse(settings).working_reader() as con:
            days = [day for day in uncosted_days(con) if not call_day_problem(day)]
    for day in days:
        if problem := call_day_problem(day):
            raise InputError(f"day {day}: {problem}")
    return [
        cost_one_day(settings, day, recost=recost, who=who or os_user(), why=why) for day in days
    ]


FIRST_CALL_DAY = FIRST_START.date()
LAST_CALL_DAY = (END_OF_STARTS - timedelta(days=1)).date()


def call_day_problem(day: date) -> str | None:
    """Why no call can be on the UTC ``day`` (the import refuses such starts), or None."""
    if FIRST_CALL_DAY <= day <= LAST_CALL_DAY:
        return None
    return f"out of range (calls start from {FIRST_CALL_DAY} to {LAST_CALL_DAY}, UTC)"


def cost_one_day(settings: Settings, day: date, *, recost: bool, who: str, why: str) -> Costing:
    """Price ``day`` from one read, then commit it: what one Dagster run of a partition does.
    Runs of other days price at the same time; only the commits take turns."""
    staged = stage_day(settings, day, recost=recost)
    with Warehouse(settings).writer() as con:
        return commit_day(con, settings, staged, who=who, why=why)


@dataclass(frozen=True)
class StagedDay:
    """A day priced from one read of the warehouse: its cdr_cost rows, and the fingerprint
    (``day_inputs``) of what they were priced from. The commit runs in the same process (one
    Dagster step), so the rows stay in memory: a Parquet file in between cost about 1 s more
    per 1M calls to write and read back."""

    day: date
    recost: bool
    inputs: tuple[object, ...]
    rows: pl.DataFrame


def stage_day(settings: Settings, day: date, *, recost: bool) -> StagedDay:
    """Read what costing ``day`` needs (the working copy, under the shared lock: writers wait
    for the read, about 1.5 s for 1M calls, not for the pricing), then price it in memory.
    Holds no lock while pricing."""
    with Warehouse(settings).working_reader() as con:
        read = read_day(con, day, recost=recost)
    pricing = pricing_connection(read.versions)
    try:
        rows = cost_rows(pricing, read.calls, cost_decimals=settings.report.cost_decimals)
    finally:
        pricing.close()
    return StagedDay(day, recost, read.inputs, rows)


def commit_day(
    con: duckdb.DuckDBPyConnection, settings: Settings, staged: StagedDay, *, who: str, why: str
) -> Costing:
    """Commit a staged day on the open writer connection, in one transaction. If what the
    pricing read changed since (a deck loaded, a route aliased, calls imported or costed by
    another run), the day is priced again here, under the lock, from the warehouse as it is
    now: the rows committed are always those of the committed state they go into."""
    decimals = settings.report.cost_decimals
    recomputed = day_inputs(con, staged.day, recost=staged.recost) != staged.inputs
    rows = staged.rows
    if recomputed:
        calls = day_calls(con, staged.day, recost=staged.recost)
        rows = cost_rows(con, calls, cost_decimals=decimals)
    reason = why or ("recost" if staged.recost else "new calls")
    request = CostingRequest(recost=staged.recost, who=who, why=reason, cost_decimals=decimals)
    costing = record_costs(con, staged.day, rows, request)
    return replace(costing, recomputed=recomputed)


def cost_day(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    day: date,
    *,
    recost: bool,
    who: str,
    why: str,
) -> Costing:
    """Cost one day entirely on an open writer connection (holding the lock throughout)."""
    calls = day_calls(con, day, recost=recost)
    rows = cost_rows(con, calls, cost_decimals=settings.report.cost_decimals)
    staged = StagedDay(day, recost, day_inputs(con, day, recost=recost), rows)
    return commit_day(con, settings, staged, who=who, why=why)


def read_call_file(path: Path) -> bytes:
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a CDR file")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in PARQUET_SUFFIXES


def os_user() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (a container)
        return "cli"


# -- the folder the Dagster sensor watches --------------------------------------------------
SKIPPED_SUFFIXES = (".part", ".tmp", ".partial")  # a copy still under way


def still_present(seen: dict[str, str], folder: Path) -> dict[str, str]:
    """``seen`` without the names no longer in ``folder`` (moved away, archived, deleted): a
    name that comes back is a new file, and its bytes, landed before, are not loaded twice."""
    return {name: key for name, key in seen.items() if (folder / name).is_file()}


def folder_changes(
    folder: Path, seen: dict[str, str], *, settle_s: float, now_s: float
) -> list[tuple[Path, str]]:
    """Files of ``folder`` not in ``seen`` (name -> "size:mtime_ns") or changed since, with
    their new key; a file modified in the last ``settle_s`` may still be being written: it
    waits for a later tick."""
    if not folder.is_dir():
        raise InputError(f"cdr.folder {folder}: no such folder")
    found = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() in SKIPPED_SUFFIXES:
            continue
        if not path.is_file():
            continue
        stat = path.stat()
        key = f"{stat.st_size}:{stat.st_mtime_ns}"
        if seen.get(path.name) != key and now_s - stat.st_mtime >= settle_s:
            found.append((path, key))
    return found
