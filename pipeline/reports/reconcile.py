"""The finance email's reconciliation section (docs/cdr.md#reconciliation).

Over the ``WINDOW_DAYS`` UTC days ending with the latest day that has costed calls or carrier
calls: each day whose balance spend differs from its costed calls by more than
``reconcile.tolerance_pct`` (with the money), else one line saying every day is within it;
then the calls the carrier billed otherwise than our CDRs and decks say, summed per
destination, and one XLSX row per disputed call. Money is exact (Decimal) throughout; the
body shows every digit of a difference (no rounding hides a cent).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import duckdb

from pipeline.reports import formatting as fmt
from pipeline.reports.attachments import XLSX_TYPE, table_xlsx
from pipeline.reports.model import Attachment, Column
from pipeline.settings import Settings
from pipeline.warehouse.reconcile import (
    ReconcileDay,
    disputed_calls,
    disputes_by_destination,
    latest_reconcile_day,
    reconcile_days,
)

WINDOW_DAYS = 7
DISPUTE_COLUMNS = (
    Column("Day", "call_day", "date"),
    Column("Class", "class"),
    Column("Start (UTC)", "started_at", "datetime"),
    Column("Number", "number"),
    Column("Tech prefix", "tech_prefix"),
    Column("Destination", "destination"),
    Column("Prefix", "prefix"),
    Column("Our call id", "our_call_id"),
    Column("Carrier call id", "their_call_id"),
    Column("Our seconds", "our_seconds", "int"),
    Column("Carrier seconds", "their_seconds", "int"),
    Column("Seconds difference", "seconds_difference", "int"),
    Column("Our rate", "our_rate", "price"),
    Column("Our rate valid from", "our_rate_valid_from", "datetime"),
    Column("Carrier rate", "their_rate", "price"),
    Column("Carrier rate valid from", "their_rate_valid_from", "datetime"),
    Column("Our cost", "our_cost", "cost"),
    Column("Carrier cost", "their_cost", "cost"),
    Column("Difference", "cost_difference", "cost"),
)
CLASS_LABELS = {
    "price_differs": "price differs",
    "duration_differs": "duration differs",
    "missing_ours": "not in our CDRs",
    "missing_theirs": "not billed by the carrier",
}


@dataclass(frozen=True)
class Reconciliation:
    first: date
    last: date
    tolerance_pct: Decimal
    days: tuple[ReconcileDay, ...]  # days with balance snapshots and costed calls
    by_destination: tuple[dict[str, Any], ...]
    disputes: tuple[dict[str, Any], ...]  # one per call, start order

    @property
    def beyond(self) -> tuple[ReconcileDay, ...]:
        return tuple(d for d in self.days if not d.within_tolerance)

    @property
    def overcharged(self) -> Decimal:
        """What the carrier charged beyond our costs over the disputed calls (exact)."""
        return sum((Decimal(r["cost_difference"]) for r in self.disputes), Decimal(0))


def reconciliation(con: duckdb.DuckDBPyConnection, settings: Settings) -> Reconciliation | None:
    """The window's reconciliation; None before any call was costed or billed."""
    last = latest_reconcile_day(con)
    if last is None:
        return None
    first = last - timedelta(days=WINDOW_DAYS - 1)
    tolerance = settings.reconcile.tolerance_pct
    return Reconciliation(
        first=first,
        last=last,
        tolerance_pct=tolerance,
        days=tuple(reconcile_days(con, first, last, tolerance)),
        by_destination=tuple(disputes_by_destination(con, first, last)),
        disputes=tuple(disputed_calls(con, first, last)),
    )


def day_lines(rec: Reconciliation, currency: str) -> list[str]:
    """The balance-vs-costs lines: one per day beyond tolerance, else one line."""
    tolerance = f"{rec.tolerance_pct.normalize():f}%"
    if not rec.days:
        return [f"Balance vs own costs: no day of {rec.first}..{rec.last} has both balance "
                f"snapshots and costed calls."]  # fmt: skip
    if not rec.beyond:
        span = f"{rec.days[0].day}..{rec.days[-1].day}"
        return [
            f"Balance vs own costs: all {len(rec.days)} day(s) of {span} are within the "
            f"{tolerance} tolerance."
        ]
    lines = [_beyond_line(day, tolerance, currency) for day in rec.beyond]
    within = [str(d.day) for d in rec.days if d.within_tolerance]
    if within:
        lines.append(f"Within the {tolerance} tolerance: {', '.join(within)}.")
    return lines


def _beyond_line(day: ReconcileDay, tolerance: str, currency: str) -> str:
    topups = f"top-ups of {_exact(day.topups)} not counted" if day.topups else "no top-up"
    return (
        f"{day.day}: the balance spent {_exact(day.spend)} {currency} ({topups}), our "
        f"{day.calls:,} costed call(s) cost {_exact(day.own_cost)}: difference "
        f"{_exact(day.difference, signed=True)} ({fmt.pct(day.pct)}), beyond the {tolerance} "
        "tolerance."
    )


def destination_lines(rec: Reconciliation, currency: str) -> list[str]:
    """Per destination: disputed calls by class and the money."""
    lines = []
    for row in rec.by_destination:
        classes = ", ".join(
            f"{row[kind]} {label}" for kind, label in CLASS_LABELS.items() if row[kind]
        )
        lines.append(
            f"{row['destination']}: {_exact(row['cost_difference'], signed=True)} {currency} "
            f"over {row['calls']} call(s) ({classes})"
        )
    return lines


def dispute_attachment(rec: Reconciliation, stamp: str) -> Attachment | None:
    """One XLSX row per disputed call; None when there is none."""
    if not rec.disputes:
        return None
    data = table_xlsx("Disputed calls", DISPUTE_COLUMNS, rec.disputes)
    return Attachment(f"ratedeck-reconciliation-{stamp}.xlsx", *XLSX_TYPE, data)


def template_values(rec: Reconciliation | None, currency: str) -> dict[str, Any] | None:
    """What the templates show (plain lines; both templates escape them)."""
    if rec is None:
        return None
    return {
        "first": rec.first,
        "last": rec.last,
        "day_lines": day_lines(rec, currency),
        "beyond": len(rec.beyond),
        "disputed": len(rec.disputes),
        "overcharged": f"{_exact(rec.overcharged, signed=True)} {currency}",
        "destination_lines": destination_lines(rec, currency),
    }


def _exact(value: Decimal, *, signed: bool = False) -> str:
    """Every digit, at least 2 decimals: 92.418264, -0.009083, 100.00."""
    text = fmt.price(Decimal(value), 2)
    return f"+{text}" if signed and value > 0 else text
