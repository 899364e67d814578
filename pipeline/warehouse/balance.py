"""Loading account balance snapshots (``balance_snapshot``) and reading the runway.

One ``/customer`` answer = one row, one transaction. Replaying a fetch already loaded (same
``fetched_at``) is a no-op; a different body for the same ``fetched_at`` is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import duckdb

from pipeline.clock import as_utc
from pipeline.ingest.balance import BalanceRecord
from pipeline.warehouse.errors import SnapshotLoadError
from pipeline.warehouse.history import transaction
from pipeline.warehouse.migrate import read_sql


@dataclass(frozen=True)
class BalanceLoad:
    snapshot_id: int
    fetched_at: datetime
    email: str
    balance: Decimal
    replayed: bool  # True: this fetch was already loaded; nothing changed


@dataclass(frozen=True)
class Runway:
    """One row of the ``balance_runway`` view (see sql/views/050_balance.sql)."""

    email: str
    as_of: datetime
    balance: Decimal
    sms_balance: Decimal
    temporary_credit: Decimal
    window_start: datetime | None
    window_days: Decimal | None
    spend_in_window: Decimal | None
    avg_daily_spend: Decimal | None
    days_left: Decimal | None  # NULL/None when there was no spend in the window
    sms_spend_in_window: Decimal | None
    sms_avg_daily_spend: Decimal | None
    sms_days_left: Decimal | None
    runway_note: str | None  # 'not enough history': under a day of snapshots, no daily rate


def load_balance_snapshot(
    con: duckdb.DuckDBPyConnection,
    *,
    fetched_at: datetime,
    content_sha256: str,
    raw_path: str,
    record: BalanceRecord,
) -> BalanceLoad:
    fetched_at = as_utc(fetched_at)
    with transaction(con):
        found = con.execute(
            "SELECT snapshot_id, content_sha256, email, balance FROM balance_snapshot "
            "WHERE fetched_at = ?",
            [fetched_at],
        ).fetchall()
        if found:
            snapshot_id, sha, email, balance = found[0]
            if sha != content_sha256:
                raise SnapshotLoadError(
                    f"balance snapshot at {fetched_at.isoformat()} is already loaded from "
                    f"different content ({sha[:16]}, not {content_sha256[:16]}); nothing loaded"
                )
            return BalanceLoad(snapshot_id, fetched_at, email, balance, replayed=True)
        snapshot_id = con.execute("SELECT nextval('snapshot_id_seq')").fetchall()[0][0]
        con.execute(
            read_sql("queries/balance_snapshot_insert.sql"),
            [
                snapshot_id,
                fetched_at,
                record.email,
                record.balance,
                record.sms_balance,
                record.temporary_credit,
                content_sha256,
                raw_path,
            ],
        )
    return BalanceLoad(snapshot_id, fetched_at, record.email, record.balance, replayed=False)


def runway(con: duckdb.DuckDBPyConnection, email: str | None = None) -> Runway | None:
    """The runway of ``email`` (default: the most recently seen account), None without data."""
    rows = con.execute(
        "SELECT * FROM balance_runway WHERE email = coalesce(?, email) ORDER BY as_of DESC LIMIT 1",
        [email],
    ).fetchall()
    return Runway(*rows[0]) if rows else None
