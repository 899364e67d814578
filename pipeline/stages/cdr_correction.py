"""``ratedeck cdr correct``: apply the corrected calls an import refused as conflicts
(docs/cdr.md#applying-a-correction), on the user's word (``why``).

In one transaction under the writer lock: the refused rows not applied yet are read again
from their landed files (the same pure ingest, checked against what the import recorded), each
supersedes its stored call (the old values kept in ``cdr_call_correction``), and every costed
day they touch is recosted, logged in ``cdr_costing_log`` as ``cdr cost --recost --why``
logs it. Anything failing rolls everything back; ``dry_run`` rolls back what it did.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import duckdb
import polars as pl

from pipeline.analytics.cdr import cost_rows
from pipeline.errors import InputError
from pipeline.ingest.cdr import CDR_CALL_SCHEMA
from pipeline.landing import LandingError, LandingZone
from pipeline.settings import Settings
from pipeline.stages.cdr import ingest_cdr_file, os_user
from pipeline.warehouse.cdr import Costing, CostingRequest, day_calls, store_costs
from pipeline.warehouse.cdr_correction import (
    apply_corrections,
    costed_call_ids,
    find_cdr_file,
    misread_conflicts,
    pending_conflicts,
)
from pipeline.warehouse.cdr_correction import dismiss_conflicts as dismiss
from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.history import transaction

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
class SkippedConflict:
    """A pending conflict an unfiltered ``cdr correct`` left pending: its landed file cannot
    be read again, or reads it otherwise now (``reason``)."""

    call_id: str
    file: str
    file_id: int
    row: int
    reason: str


@dataclass(frozen=True)
class LeftForCost:
    """Calls of a recosted day that no costing had reached: ``cdr cost`` costs them, apart
    from the correction's recost."""

    day: date
    calls: int


@dataclass(frozen=True)
class Corrections:
    """What ``cdr correct`` did (``dry_run``: what it would do; nothing was kept)."""

    dry_run: bool
    applied: tuple[AppliedCorrection, ...] = ()
    unchanged: int = 0  # pending conflicts that say what the stored call already says
    recostings: tuple[Costing, ...] = ()  # the costed days the corrections touched
    uncosted_days: tuple[date, ...] = ()  # touched, never costed: `cdr cost` costs them
    left_for_cost: tuple[LeftForCost, ...] = ()  # recosted days' calls never costed
    stale: int = 0  # pending rows repeating a call's superseded values: not offered
    skipped: tuple[SkippedConflict, ...] = ()  # unreadable or misread: left pending


@dataclass(frozen=True)
class Dismissals:
    """What ``cdr correct --dismiss`` set aside (``dry_run``: would set aside)."""

    dry_run: bool
    dismissed: tuple[SkippedConflict, ...]  # reason: "dismissed"


@dataclass(frozen=True)
class CorrectionRequest:
    """One ``cdr correct`` (applying or ``--dismiss``): the pending conflicts of ``file`` (a
    file id, name or sha256 prefix) and / or of ``call_id`` (None: not narrowed by it), on the
    user's word ``why``; ``dry_run``: everything done, then rolled back."""

    why: str
    file: str | None = None
    call_id: str | None = None
    dry_run: bool = False


def correct_calls(settings: Settings, request: CorrectionRequest) -> Corrections:
    """Apply the refused conflicts neither applied nor dismissed yet (of ``request.file``, of
    ``request.call_id``; neither: all), in one transaction. A stale one (it repeats values its
    call had before a correction) only with ``call_id``. Without a filter, a conflict its
    landed file cannot give as the import recorded it is skipped and named; with one, it is
    an InputError (nothing changed), as are no reason, no warehouse and a ``file`` naming no
    file or several."""
    _require_why(request.why)
    with _transaction(settings, dry_run=request.dry_run) as con:
        done = _correct(con, settings, request)
    return replace(done, dry_run=request.dry_run)


def dismiss_conflicts(settings: Settings, request: CorrectionRequest) -> Dismissals:
    """Set aside the pending conflicts of ``request.file`` and / or ``request.call_id`` (one is
    required): recorded in cdr_conflict_dismissal with ``why``, never applied; the refused
    rows stay. Their landed files are not read (a lost or misread one can be dismissed)."""
    _require_why(request.why)
    if request.file is None and request.call_id is None:
        raise InputError(
            "cdr correct --dismiss: give --file or --call (what to set aside is named, "
            "never everything at once)"
        )
    with _transaction(settings, dry_run=request.dry_run) as con:
        pending = _pending(con, request)
        if not pending.is_empty():
            dismiss(con, pending, dismissed_at=datetime.now(UTC), who=os_user(), why=request.why)
    dismissed = tuple(_pending_row(row, "dismissed") for row in pending.iter_rows(named=True))
    return Dismissals(request.dry_run, dismissed)


@contextmanager
def _transaction(settings: Settings, *, dry_run: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction on the writer: committed, or rolled back on ``dry_run`` or a failure.
    Refused (exit 2, nothing created) without a warehouse: the writer would start an empty
    one (a mistyped data dir)."""
    warehouse = Warehouse(settings)
    warehouse.require_existing()
    warehouse.refuse_newer()  # its publish would drop what a newer ratedeck wrote
    with warehouse.writer() as con, transaction(con, rollback=dry_run):
        yield con


def _require_why(why: str) -> None:
    if not why.strip():
        raise InputError("cdr correct: give --why TEXT (logged with every correction)")


def _pending(con: duckdb.DuckDBPyConnection, request: CorrectionRequest) -> pl.DataFrame:
    """The pending conflicts ``request`` names (its ``file`` found: InputError if it names no
    file or several)."""
    file_id = None if request.file is None else find_cdr_file(con, request.file)
    return pending_conflicts(con, file_id=file_id, call_id=request.call_id)


def _correct(
    con: duckdb.DuckDBPyConnection, settings: Settings, request: CorrectionRequest
) -> Corrections:
    pending = _pending(con, request)
    stale = 0
    if request.call_id is None:  # a stale row reverts a correction: only on the call's own name
        stale = int(pending["stale"].sum())
        pending = pending.filter(~pl.col("stale"))
    rows, skipped = _read_again(settings, pending)
    skipped += _misread(con, pending, rows)
    if skipped and (request.file is not None or request.call_id is not None):
        first = skipped[0]
        raise InputError(f"{first.file} row {first.row}: {first.reason} (nothing corrected)")
    rows = _without(rows, skipped)
    if rows.is_empty():
        return Corrections(False, stale=stale, skipped=tuple(skipped))
    who = os_user()
    applied = apply_corrections(con, rows, applied_at=datetime.now(UTC), who=who, why=request.why)
    corrected = set(applied.plan["call_id"].to_list())
    recosted = [
        _recost(con, settings, day, corrected, who=who, why=f"correction: {request.why}")
        for day, costed in applied.days
        if costed
    ]
    return Corrections(
        False,
        applied=tuple(_described(row) for row in applied.plan.iter_rows(named=True)),
        unchanged=rows.height - applied.plan.height,
        recostings=tuple(costing for costing, _ in recosted),
        uncosted_days=tuple(day for day, costed in applied.days if not costed),
        left_for_cost=tuple(left for _, left in recosted if left.calls),
        stale=stale,
        skipped=tuple(skipped),
    )


def _read_again(
    settings: Settings, pending: pl.DataFrame
) -> tuple[pl.DataFrame, list[SkippedConflict]]:
    """The pending rows as their landed files read now, with the [cdr] settings in hand (the
    import's pure ingest), each with its file_id; and the pending rows of files that cannot
    be read again (lost from the landing zone, other bytes, unreadable now)."""
    zone = LandingZone(settings.data_dir)
    parts = [_empty_rows()]
    skipped: list[SkippedConflict] = []
    for (file_id, raw_path, sha256), group in pending.group_by(
        "file_id", "raw_path", "content_sha256", maintain_order=True
    ):
        try:
            calls = _landed_calls(settings, zone, str(raw_path), str(sha256))
        except InputError as exc:
            skipped += [_pending_row(row, str(exc)) for row in group.iter_rows(named=True)]
            continue
        wanted = calls.filter(pl.col("row_number").is_in(group["row_number"].implode()))
        parts.append(
            wanted.select(*CDR_CALL_SCHEMA).with_columns(file_id=pl.lit(file_id, dtype=pl.Int64))
        )  # the stored call's columns: what ingest adds for the import alone is not compared
    return pl.concat(parts), skipped


def _landed_calls(
    settings: Settings, zone: LandingZone, raw_path: str, sha256: str
) -> pl.DataFrame:
    """The calls of a landed file as ingest reads it now; InputError (a reason naming its
    landed copy) when it cannot be: missing, other bytes than imported, unreadable."""
    try:
        landed = zone.open_landed("cdr", settings.cdr.format, raw_path)
    except LandingError:
        raise InputError(f"its landed copy {raw_path} is missing from the landing zone") from None
    if landed.sha256 != sha256:  # the landing zone is read-only: never expected
        raise InputError(f"its landed copy {raw_path} is not the file imported")
    try:
        return ingest_cdr_file(settings, landed).rows
    except InputError as exc:
        raise InputError(f"its landed copy {raw_path} cannot be read again: {exc}") from None


def _empty_rows() -> pl.DataFrame:
    """No call, in the shape ``_read_again`` gives (so an all-skipped read concatenates)."""
    return pl.DataFrame(schema={**CDR_CALL_SCHEMA, "file_id": pl.Int64})


def _misread(
    con: duckdb.DuckDBPyConnection, pending: pl.DataFrame, rows: pl.DataFrame
) -> list[SkippedConflict]:
    read = pending.join(rows.select("file_id", "row_number"), on=["file_id", "row_number"])
    found = misread_conflicts(con, read, rows) if not read.is_empty() else []
    return [
        SkippedConflict(
            call_id=m.call_id,
            file=m.name,
            file_id=m.file_id,
            row=m.row,
            reason=(
                f"refused as {m.recorded}, it reads {'no call' if m.now is None else m.now} now: "
                "[cdr] format, timezone or voice.tech_prefixes changed since its import; set "
                "them back to apply it, or if its import's settings were the mistake, "
                f"{_dismiss_hint(m.file_id, m.call_id)}"
            ),
        )
        for m in found
    ]


def _pending_row(row: dict[str, object], reason: str) -> SkippedConflict:
    """A pending_conflicts row as a SkippedConflict; a reason other than "dismissed" (the
    file cannot be read again) gets the way out."""
    call_id = str(json.loads(str(row["raw"]))["call_id"])
    file_id = int(str(row["file_id"]))
    if reason != "dismissed":
        reason = f"{reason}; to leave it unapplied, {_dismiss_hint(file_id, call_id)}"
    return SkippedConflict(
        call_id, str(row["original_name"]), file_id, int(str(row["row_number"])), reason
    )


def _dismiss_hint(file_id: int, call_id: str) -> str:
    # quoted: a call named by its record holds spaces, | and # (a shell would split it)
    return (
        f"ratedeck cdr correct --dismiss --file {file_id} --call {shlex.quote(call_id)} --why TEXT"
    )


def _without(rows: pl.DataFrame, skipped: list[SkippedConflict]) -> pl.DataFrame:
    """``rows`` but the skipped ones: a misread row's values now are nobody's reviewed word."""
    left_out = {(s.file_id, s.row) for s in skipped}
    keep = [
        (file_id, row) not in left_out
        for file_id, row in zip(rows["file_id"], rows["row_number"], strict=True)
    ]
    return rows.filter(pl.Series(keep, dtype=pl.Boolean))


def _recost(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    day: date,
    corrected: set[str],
    *,
    who: str,
    why: str,
) -> tuple[Costing, LeftForCost]:
    """Recost ``day`` in the open transaction, as ``cdr cost --day --recost --why`` does, but
    only the calls costed before and those corrected: a call no costing reached yet is left
    to ``cdr cost``, so the logged before -> after is the correction's (and repaired
    decks') effect, not new calls' first cost."""
    decimals = settings.report.cost_decimals
    calls = day_calls(con, day, recost=True)
    reprice = costed_call_ids(con, day) | corrected
    mine = calls.filter(pl.col("call_id").is_in(list(reprice)))
    rows = cost_rows(con, mine, cost_decimals=decimals)
    request = CostingRequest(recost=True, who=who, why=why, cost_decimals=decimals)
    costing = store_costs(con, day, rows, request)
    return costing, LeftForCost(day, calls.height - mine.height)


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
