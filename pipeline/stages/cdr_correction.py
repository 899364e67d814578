"""``ratedeck cdr correct``: apply the corrected calls an import refused as conflicts
(docs/cdr.md#applying-a-correction), on the user's word (``why``).

In one transaction under the writer lock: the refused rows not applied yet are read again
from their landed files (the same pure ingest, checked against what the import recorded), each
supersedes its stored call (the old values kept in ``cdr_call_correction``), and every costed
day they touch is recosted, logged in ``cdr_costing_log`` as ``cdr cost --recost --why``
logs it. Anything failing rolls everything back; ``dry_run`` rolls back what it did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb
import polars as pl

from pipeline.analytics.cdr import cost_rows
from pipeline.errors import InputError
from pipeline.landing import LandingZone
from pipeline.settings import Settings
from pipeline.stages.cdr import ingest_cdr_file, os_user
from pipeline.warehouse.cdr import Costing, day_calls, store_costs
from pipeline.warehouse.cdr_correction import (
    apply_corrections,
    find_cdr_file,
    first_misread,
    pending_conflicts,
)
from pipeline.warehouse.db import Warehouse

COMPARED = (  # (what the output calls it, cdr_call column)
    ("start", "started_at"),
    ("number", "number"),
    ("tech prefix", "tech_prefix"),
    ("duration", "duration_seconds"),
    ("billsec", "billsec"),
    ("disposition", "disposition"),
    ("billable", "billable"),
)


@dataclass(frozen=True)
class AppliedCorrection:
    """One stored call superseded: by which row of which file, and what changed."""

    call_id: str
    file: str  # the correcting file's original name
    file_id: int
    row: int
    changes: tuple[str, ...]  # "billsec 60 -> 65"


@dataclass(frozen=True)
class Corrections:
    """What ``cdr correct`` did (``dry_run``: what it would do; nothing was kept)."""

    dry_run: bool
    applied: tuple[AppliedCorrection, ...]
    unchanged: int  # pending conflicts that say what the stored call already says
    recostings: tuple[Costing, ...]  # the costed days the corrections touched
    uncosted_days: tuple[date, ...]  # touched, never costed: `cdr cost` costs them


def correct_calls(
    settings: Settings,
    *,
    why: str,
    file: str | None = None,
    call_id: str | None = None,
    dry_run: bool = False,
) -> Corrections:
    """Apply the refused conflicts not applied yet (of ``file``: a file id, name or sha256
    prefix; of ``call_id``; None: all), in one transaction. InputError (nothing changed) for
    no reason, a ``file`` naming no file or several, or a conflict its landed file no longer
    reads as the import did."""
    if not why.strip():
        raise InputError("cdr correct: give --why TEXT (logged with every correction)")
    with Warehouse(settings).writer() as con:
        con.execute("BEGIN TRANSACTION")
        try:
            done = _correct(con, settings, why=why, file=file, call_id=call_id)
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("ROLLBACK" if dry_run else "COMMIT")
    return Corrections(dry_run, *done)


def _correct(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    *,
    why: str,
    file: str | None,
    call_id: str | None,
) -> tuple[tuple[AppliedCorrection, ...], int, tuple[Costing, ...], tuple[date, ...]]:
    file_id = None if file is None else find_cdr_file(con, file)
    pending = pending_conflicts(con, file_id=file_id, call_id=call_id)
    if pending.is_empty():
        return (), 0, (), ()
    rows = _read_again(settings, pending)
    _refuse_misread(con, pending, rows)
    who = os_user()
    applied = apply_corrections(con, rows, applied_at=datetime.now(UTC), who=who, why=why)
    recostings = tuple(
        _recost(con, settings, day, who=who, why=f"correction: {why}")
        for day, costed in applied.days
        if costed
    )
    uncosted = tuple(day for day, costed in applied.days if not costed)
    changed = tuple(_described(row) for row in applied.plan.iter_rows(named=True))
    return changed, pending.height - applied.plan.height, recostings, uncosted


def _read_again(settings: Settings, pending: pl.DataFrame) -> pl.DataFrame:
    """The pending rows as their landed files read now, with the [cdr] settings in hand (the
    import's pure ingest), each with its file_id."""
    zone = LandingZone(settings.data_dir)
    parts = []
    for (file_id, name, raw_path, sha256), group in pending.group_by(
        "file_id", "original_name", "raw_path", "content_sha256", maintain_order=True
    ):
        landed = zone.open_landed("cdr", settings.cdr.format, str(raw_path))
        if landed.sha256 != sha256:  # the landing zone is read-only: never expected
            raise InputError(f"{name} ({raw_path}): the landed copy is not the file imported")
        try:
            calls = ingest_cdr_file(settings, landed).rows
        except InputError as exc:
            raise InputError(f"{name} ({raw_path}) cannot be read again: {exc}") from None
        wanted = calls.filter(pl.col("row_number").is_in(group["row_number"].implode()))
        parts.append(wanted.drop("named_by_record").with_columns(file_id=pl.lit(file_id)))
    return pl.concat(parts)


def _refuse_misread(
    con: duckdb.DuckDBPyConnection, pending: pl.DataFrame, rows: pl.DataFrame
) -> None:
    misread = first_misread(con, pending, rows)
    if misread is None:
        return
    name, row, recorded, now = misread
    reads = "no call" if now is None else now
    raise InputError(
        f"{name} row {row}: refused as {recorded}, it reads {reads} now: [cdr] format, "
        "timezone or voice.tech_prefixes changed since its import; set them back to apply it "
        "(nothing corrected)"
    )


def _recost(
    con: duckdb.DuckDBPyConnection, settings: Settings, day: date, *, who: str, why: str
) -> Costing:
    """Recost ``day`` in the open transaction, as ``cdr cost --day --recost --why`` does."""
    decimals = settings.report.cost_decimals
    rows = cost_rows(con, day_calls(con, day, recost=True), cost_decimals=decimals)
    return store_costs(con, day, rows, recost=True, who=who, why=why, cost_decimals=decimals)


def _described(row: dict[str, object]) -> AppliedCorrection:
    changes = tuple(
        f"{label} {_text(row[f'old_{column}'])} -> {_text(row[column])}"
        for label, column in COMPARED
        if row[f"old_{column}"] != row[column]
    )
    return AppliedCorrection(
        call_id=str(row["call_id"]),
        file=str(row["original_name"]),
        file_id=int(str(row["file_id"])),
        row=int(str(row["row_number"])),
        changes=changes,
    )


def _text(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if value is None:
        return "none"
    return str(value).lower() if isinstance(value, bool) else str(value)
