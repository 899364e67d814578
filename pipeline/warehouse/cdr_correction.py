"""Applying corrected CDRs in the warehouse (docs/cdr.md#applying-a-correction): the refused
conflicts neither applied nor dismissed yet, dismissing them, and, inside the caller's transaction, each stored call superseded
by its correction, what it superseded kept in ``cdr_call_correction``, and ``cdr_day``
recounted. Reading the landed files again and recosting the days are the stage's
(``stages/cdr_correction.py``): they need ingest and the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import polars as pl

from pipeline.errors import InputError
from pipeline.warehouse.cdr import recount_days, registered
from pipeline.warehouse.history import execute_named
from pipeline.warehouse.migrate import read_sql

PENDING_VIEW = "cdr_correction_pending"  # as cdr_correction_reread.sql names them
ROWS_VIEW = "cdr_correction_rows"  # each pending row as its landed file reads now, + file_id
PLAN_VIEW = "cdr_correction_plan"  # cdr_correction_plan.sql's rows
SHA_PREFIX_MIN = 8  # hex digits of a sha256 that --file takes


@dataclass(frozen=True)
class AppliedCorrections:
    """What applying did: one row per correction that changed a stored call
    (``cdr_correction_plan.sql``'s columns), and the UTC days it touched, each with whether
    it had been costed (so it is recosted)."""

    plan: pl.DataFrame
    days: list[tuple[date, bool]]


def find_cdr_file(con: duckdb.DuckDBPyConnection, text: str) -> int:
    """The cdr_file ``text`` names: its file id, its original name or the start of its
    sha256 (at least 8 hex digits). InputError when none or several do."""
    params = {"text": text, "min_sha": SHA_PREFIX_MIN}
    found = execute_named(con, read_sql("queries/cdr_correction_file.sql"), params).fetchall()
    if len(found) == 1:
        return int(found[0][0])
    if not found:
        raise InputError(
            f"--file {text}: no imported CDR file has that id, name or sha256 (at least "
            f"{SHA_PREFIX_MIN} hex digits); the files are in the cdr_file table"
        )
    named = ", ".join(f"file {file_id} ({name})" for file_id, name in found[:5])
    raise InputError(f"--file {text}: names {len(found)} files ({named}): give its file id")


def pending_conflicts(
    con: duckdb.DuckDBPyConnection, *, file_id: int | None, call_id: str | None
) -> pl.DataFrame:
    """The refused conflicts neither applied nor dismissed yet (of ``file_id``, of
    ``call_id``; None: all), in file order: file_id, original_name, raw_path,
    content_sha256, row_number, raw, stale (it repeats values its call had before a
    correction)."""
    params = {"file_id": file_id, "call_id": call_id}
    sql = read_sql("queries/cdr_correction_pending.sql")
    frame: pl.DataFrame = con.sql(sql, params=params).pl()
    return frame


@dataclass(frozen=True)
class Misread:
    """A pending conflict whose row its landed file, read now, does not give as the import
    recorded it (``now`` None: no call at all)."""

    file_id: int
    name: str
    row: int
    call_id: str
    recorded: str
    now: str | None


def misread_conflicts(
    con: duckdb.DuckDBPyConnection, pending: pl.DataFrame, rows: pl.DataFrame
) -> list[Misread]:
    """The pending conflicts whose rows the landed files, read now (``rows``), do not give as
    the import recorded them, in file order; empty if all read the same."""
    with registered(con, PENDING_VIEW, pending), registered(con, ROWS_VIEW, rows):
        found = con.execute(read_sql("queries/cdr_correction_reread.sql")).fetchall()
    return [
        Misread(
            int(file_id),
            str(name),
            int(row),
            str(call),
            str(raw),
            None if now is None else str(now),
        )
        for file_id, name, row, call, raw, now in found
    ]


def dismiss_conflicts(
    con: duckdb.DuckDBPyConnection,
    pending: pl.DataFrame,
    *,
    dismissed_at: datetime,
    who: str,
    why: str,
) -> None:
    """Record ``pending`` (``pending_conflicts``' rows) as dismissed, in the caller's
    transaction: never applied, no longer pending; the refused rows stay in ingest_reject."""
    params = {"dismissed_at": dismissed_at, "who": who, "why": why}
    with registered(con, PENDING_VIEW, pending):
        execute_named(con, read_sql("queries/cdr_conflict_dismissal_insert.sql"), params)


def costed_call_ids(con: duckdb.DuckDBPyConnection, day: date) -> set[str]:
    """The call ids of ``day`` that have a cost."""
    found = execute_named(con, read_sql("queries/cdr_day_costed_calls.sql"), {"day": day})
    return {str(call_id) for (call_id,) in found.fetchall()}


def apply_corrections(
    con: duckdb.DuckDBPyConnection,
    rows: pl.DataFrame,
    *,
    applied_at: datetime,
    who: str,
    why: str,
) -> AppliedCorrections:
    """Supersede the stored calls ``rows`` correct (each pending conflict's row as read,
    ``CDR_CALL_SCHEMA`` and file_id), in the caller's transaction: what they supersede into
    cdr_call_correction, cdr_call updated, cdr_day recounted on every day touched."""
    with registered(con, ROWS_VIEW, rows):
        plan: pl.DataFrame = con.sql(read_sql("queries/cdr_correction_plan.sql")).pl()
    params = {"applied_at": applied_at, "who": who, "why": why}
    with registered(con, PLAN_VIEW, plan):
        execute_named(con, read_sql("queries/cdr_call_correction_insert.sql"), params)
        con.execute(read_sql("queries/cdr_call_correct.sql"))
        days = con.execute(read_sql("queries/cdr_correction_days.sql")).fetchall()
    for day, _ in days:
        recount_days(con, day, day)
    return AppliedCorrections(plan, [(day, bool(costed)) for day, costed in days])
