"""Reconciliation with the carrier in the warehouse: its call exports (append-only, like the
switch's CDRs), the settings the reconcile views read, and the reads the email and the asset
check use (SQL in ``sql/queries/reconcile_*.sql``, views in ``sql/views/095_reconcile.sql``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb

from pipeline.warehouse.cdr import CallFiles, count_days_of_older_warehouse, store_call_file
from pipeline.warehouse.history import execute_named
from pipeline.warehouse.migrate import read_sql
from pipeline.warehouse.snapshot import IncomingSnapshot, SnapshotLoad, SnapshotSpec

CARRIER_FILES = CallFiles("carrier", "carrier_incoming")


def store_carrier_file(
    con: duckdb.DuckDBPyConnection, spec: SnapshotSpec, incoming: IncomingSnapshot
) -> SnapshotLoad:
    """Record one carrier export (inside load_snapshot's transaction). The outcome's
    ``row_count`` is the calls it added, ``unchanged`` the calls left out as already stored or
    repeated in the export with the same values (carrier_file.duplicate_count), ``conflicts``
    the rows refused as a stored call billed again with other values
    (carrier_file.conflict_count, docs/cdr.md#corrected-calls)."""
    return store_call_file(con, spec, incoming, CARRIER_FILES)


def carrier_file_days(con: duckdb.DuckDBPyConnection, file_id: int) -> list[str]:
    """The UTC days (YYYY-MM-DD) an export's calls fall on."""
    cursor = execute_named(con, read_sql("queries/carrier_file_days.sql"), {"file_id": file_id})
    return [day for (day,) in cursor.fetchall()]


def record_reconcile_setting(
    con: duckdb.DuckDBPyConnection, tolerance_pct: Decimal, match_tolerance_s: int
) -> None:
    """Store the [reconcile] settings the views read (a no-op when unchanged)."""
    params = {"tolerance_pct": tolerance_pct, "match_tolerance_s": match_tolerance_s}
    execute_named(con, read_sql("queries/reconcile_setting_record.sql"), params)


@dataclass(frozen=True)
class ReconcileDay:
    """Balance spend against the costed calls of one UTC day (a row of reconcile_daily).

    ``calls`` 0 and ``own_cost`` 0: no costed call that day. ``spend`` None: no balance data
    that day (``topups``, ``difference`` and ``within_tolerance`` None too: nothing to judge).
    """

    day: date
    spend: Decimal | None
    topups: Decimal | None
    calls: int
    own_cost: Decimal
    difference: Decimal | None
    pct: Decimal | None
    tolerance_pct: Decimal
    within_tolerance: bool | None

    @property
    def has_balance_data(self) -> bool:
        return self.spend is not None


def reconcile_days(
    con: duckdb.DuckDBPyConnection, first: date, last: date, tolerance_pct: Decimal
) -> list[ReconcileDay]:
    """The days of ``first``..``last`` that have balance data or costed calls."""
    rows = _rows(con, "reconcile_days", first, last, tolerance_pct=tolerance_pct)
    return [ReconcileDay(**row) for row in rows]


def latest_reconcile_day(con: duckdb.DuckDBPyConnection, today: date) -> date | None:
    """The latest day up to ``today`` with costed calls or carrier calls; None before any."""
    query = read_sql("queries/reconcile_latest_day.sql")
    [(day,)] = execute_named(con, query, {"today": today}).fetchall()
    return day if isinstance(day, date) else None


@dataclass(frozen=True)
class CallsAhead:
    """The calls, ours and the carrier's, dated after a day (``latest``: the last one's day)."""

    calls: int
    latest: date


def calls_after(con: duckdb.DuckDBPyConnection, today: date) -> CallsAhead | None:
    """The calls dated after ``today``, which the email's windows leave out; None: none."""
    count_days_of_older_warehouse(con)
    query = read_sql("queries/calls_after_today.sql")
    [(calls, latest)] = execute_named(con, query, {"today": today}).fetchall()
    return CallsAhead(calls, latest) if calls else None


def disputed_calls(con: duckdb.DuckDBPyConnection, first: date, last: date) -> list[dict[str, Any]]:
    """Every call of ``first``..``last`` on which we and the carrier disagree, in start order."""
    return _rows(con, "reconcile_disputes", first, last)


def disputes_by_destination(
    con: duckdb.DuckDBPyConnection, days: list[date]
) -> list[dict[str, Any]]:
    """The disputed calls' money of ``days`` per destination, the largest overcharge first."""
    if not days:
        return []
    return _rows(con, "reconcile_by_destination", min(days), max(days), days=days)


@dataclass(frozen=True)
class EmailedDispute:
    """A day's disputed calls as the last email that carried them had them (report_dispute)."""

    call_day: date
    digest: str
    calls: int
    cost_difference: Decimal
    emailed_at: datetime  # the email's time (report_log.created_at, its Date header)


def emailed_disputes(
    con: duckdb.DuckDBPyConnection, first: date, last: date
) -> dict[date, EmailedDispute]:
    """Per day of ``first``..``last``: its disputes as last emailed (days never emailed absent)."""
    rows = _rows(con, "report_dispute_latest", first, last)
    return {row["call_day"]: EmailedDispute(**row) for row in rows}


def _rows(
    con: duckdb.DuckDBPyConnection, query: str, first: date, last: date, **more: object
) -> list[dict[str, Any]]:
    params = {"first": first, "last": last, **more}
    cursor = execute_named(con, read_sql(f"queries/{query}.sql"), params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


CARRIER_SNAPSHOT = SnapshotSpec(
    kind="carrier", noun="carrier export", history=None, store=store_carrier_file
)
