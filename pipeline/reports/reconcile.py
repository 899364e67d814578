"""The finance email's reconciliation section (docs/cdr.md#reconciliation).

Over the ``WINDOW_DAYS`` UTC days ending with the latest day that has costed calls or carrier
calls: each day whose balance spend differs from its costed calls by more than
``reconcile.tolerance_pct`` (with the money), else one line saying every day is within it;
then the calls the carrier billed otherwise than our CDRs and decks say, summed per
destination, and one XLSX row per disputed call. Money is exact (Decimal) throughout; the
body shows every digit of a difference (no rounding hides a cent).

A day's disputed calls are sent in full once: a later email within the window says they were
already reported (and when), and attaches a day's rows again only when they changed since
(a carrier re-export, a recost) or says when they are gone; ``report_dispute`` records what
each email carried (written with ``report_log``, see :mod:`pipeline.reports.send`).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import duckdb

from pipeline.reports import formatting as fmt
from pipeline.reports.attachments import XLSX_TYPE, table_xlsx
from pipeline.reports.model import Attachment, Column
from pipeline.settings import Settings
from pipeline.warehouse.reconcile import (
    EmailedDispute,
    ReconcileDay,
    calls_after,
    disputed_calls,
    disputes_by_destination,
    emailed_disputes,
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
    Column("Our billed seconds", "our_billed_seconds", "int"),
    Column("Carrier billed seconds", "their_billed_seconds", "int"),
    Column("Our increments", "our_increments"),
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
    "billing_differs": "billed in other increments",
    "cost_differs": "cost differs",
    "missing_ours": "not in our CDRs",
    "missing_theirs": "not billed by the carrier",
}
# what a disputed call is, for telling one day's disputes from another version of them: not
# labels (destination, tech prefix, valid-from dates) that a view fix may reword
DIGEST_FIELDS = (
    "class", "started_at", "number", "our_call_id", "their_call_id", "our_seconds",
    "their_seconds", "our_rate", "their_rate", "our_cost", "their_cost", "cost_difference",
)  # fmt: skip
DisputeKey = tuple[date, str, int, Decimal]  # call_day, digest, calls, cost_difference


@dataclass(frozen=True)
class DayDisputes:
    """One day's disputed calls now, against the last email that carried that day's."""

    day: date
    rows: tuple[dict[str, Any], ...]
    emailed: EmailedDispute | None

    @property
    def digest(self) -> str:
        return dispute_digest(self.rows)

    @property
    def cost_difference(self) -> Decimal:
        return sum((Decimal(r["cost_difference"]) for r in self.rows), Decimal(0))

    @property
    def status(self) -> str:
        """new (never emailed) | reported (emailed as they are) | changed | resolved (gone)."""
        if self.emailed is None:
            return "new"
        if self.emailed.digest == self.digest:
            return "reported"
        return "changed" if self.rows else "resolved"

    @property
    def key(self) -> DisputeKey:
        return (self.day, self.digest, len(self.rows), self.cost_difference)


@dataclass(frozen=True)
class Reconciliation:
    first: date
    last: date
    tolerance_pct: Decimal
    days: tuple[ReconcileDay, ...]  # days with balance data or costed calls
    by_destination: tuple[dict[str, Any], ...]  # of the days whose disputes are news
    dispute_days: tuple[DayDisputes, ...] = ()  # days with disputes now or last emailed

    @property
    def beyond(self) -> tuple[ReconcileDay, ...]:
        return tuple(d for d in self.days if d.within_tolerance is False)

    @property
    def news(self) -> tuple[DayDisputes, ...]:
        """The days whose disputes this email carries: never emailed, changed, or gone."""
        return tuple(d for d in self.dispute_days if d.status != "reported")

    @property
    def disputes(self) -> tuple[dict[str, Any], ...]:
        """The disputed calls sent (attached) with this email, one per call, start order."""
        return tuple(row for d in self.news for row in d.rows)

    @property
    def dispute_keys(self) -> tuple[DisputeKey, ...]:
        """What report_dispute records once the email is delivered."""
        return tuple(d.key for d in self.news)

    @property
    def overcharged(self) -> Decimal:
        """What the carrier charged beyond our costs over the disputed calls sent (exact)."""
        return sum((Decimal(r["cost_difference"]) for r in self.disputes), Decimal(0))


def reconciliation(
    con: duckdb.DuckDBPyConnection, settings: Settings, *, today: date
) -> Reconciliation | None:
    """The window's reconciliation, ending on the latest day up to ``today`` (the report's)
    with calls; None before any call was costed or billed."""
    last = latest_reconcile_day(con, today)
    if last is None:
        return None
    first = last - timedelta(days=WINDOW_DAYS - 1)
    tolerance = settings.reconcile.tolerance_pct
    dispute_days = _dispute_days(
        disputed_calls(con, first, last), emailed_disputes(con, first, last)
    )
    news_days = [d.day for d in dispute_days if d.status != "reported" and d.rows]
    return Reconciliation(
        first=first,
        last=last,
        tolerance_pct=tolerance,
        days=tuple(reconcile_days(con, first, last, tolerance)),
        by_destination=tuple(disputes_by_destination(con, news_days)),
        dispute_days=dispute_days,
    )


def ahead_line(con: duckdb.DuckDBPyConnection, *, today: date) -> str | None:
    """One line naming the calls dated after ``today`` that both windows leave out (a clock
    running ahead would otherwise move them off the real days); None when there is none."""
    ahead = calls_after(con, today)
    if ahead is None:
        return None
    return (
        f"{ahead.calls:,} call(s) dated after today (latest {ahead.latest}) are left out of the "
        "reconciliation and traffic windows: a switch or carrier clock running ahead?"
    )


def _dispute_days(
    rows: list[dict[str, Any]], emailed: dict[date, EmailedDispute]
) -> tuple[DayDisputes, ...]:
    """Every day with disputed calls now, or whose last email had some (they may be gone)."""
    by_day: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_day[row["call_day"]].append(row)
    days = set(by_day) | {day for day, sent in emailed.items() if sent.calls}
    return tuple(
        DayDisputes(day, tuple(by_day.get(day, ())), emailed.get(day)) for day in sorted(days)
    )


def dispute_digest(rows: tuple[dict[str, Any], ...]) -> str:
    """Names one version of a day's disputed calls (the same calls give the same digest)."""
    text = "\n".join("|".join(_canonical(row[f]) for f in DIGEST_FIELDS) for row in rows)
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical(value: object) -> str:
    """A value as text that does not depend on the session (time zone, decimal scale)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def day_lines(rec: Reconciliation, currency: str) -> list[str]:
    """The balance-vs-costs lines: one per day beyond tolerance, else one line; then the days
    with costed calls but no balance data, if any (named, not silently left out)."""
    lines = _judged_lines(rec, currency)
    unjudged = [str(d.day) for d in rec.days if not d.has_balance_data]
    if unjudged:
        lines.append(f"No balance data (costed calls, no balance snapshots to compare): "
                     f"{', '.join(unjudged)}.")  # fmt: skip
    return lines


def _judged_lines(rec: Reconciliation, currency: str) -> list[str]:
    tolerance = f"{rec.tolerance_pct.normalize():f}%"
    judged = [d for d in rec.days if d.has_balance_data]
    if not judged:
        return [f"Balance vs own costs: no day of {rec.first}..{rec.last} has balance data."]
    if not rec.beyond:
        span = f"{judged[0].day}..{judged[-1].day}"
        return [
            f"Balance vs own costs: all {len(judged)} day(s) of {span} are within the "
            f"{tolerance} tolerance."
        ]
    lines = [_beyond_line(day, tolerance, currency) for day in rec.beyond]
    within = [str(d.day) for d in judged if d.within_tolerance]
    if within:
        lines.append(f"Within the {tolerance} tolerance: {', '.join(within)}.")
    return lines


def _beyond_line(day: ReconcileDay, tolerance: str, currency: str) -> str:
    assert day.spend is not None and day.difference is not None  # judged: has balance data
    topups = f"top-ups of {_exact(day.topups)} not counted" if day.topups else "no top-up"
    ours = (
        f"our {day.calls:,} costed call(s) cost {_exact(day.own_cost)}"
        if day.calls
        else "no call of ours was costed that day"
    )
    pct = f" ({fmt.pct(day.pct)})" if day.pct is not None else ""
    return (
        f"{day.day}: the balance spent {_exact(day.spend)} {currency} ({topups}), {ours}: "
        f"difference {_exact(day.difference, signed=True)}{pct}, beyond the {tolerance} "
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


def news_lines(rec: Reconciliation, currency: str) -> list[str]:
    """A line per day whose disputes changed or went away since the email that carried them."""
    lines = []
    for d in rec.news:
        if d.emailed is None:
            continue
        then = (
            f"the email of {fmt.when(d.emailed.emailed_at)} had {d.emailed.calls} call(s), "
            f"{_exact(d.emailed.cost_difference, signed=True)} {currency}"
        )
        if d.status == "resolved":
            lines.append(f"{d.day}: no disputed call any more ({then}).")
        else:
            lines.append(
                f"{d.day}: re-reconciled, the disputed calls changed ({then}; now "
                f"{len(d.rows)} call(s), {_exact(d.cost_difference, signed=True)} {currency}): "
                "sent again in full."
            )
    return lines


def reported_lines(rec: Reconciliation, currency: str) -> list[str]:
    """A line per day whose disputes an earlier email carried exactly as they are now."""
    return [
        f"{d.day}: {len(d.rows)} disputed call(s), {_exact(d.cost_difference, signed=True)} "
        f"{currency}: already reported in the email of {fmt.when(d.emailed.emailed_at)}, "
        "not attached again."
        for d in rec.dispute_days
        if d.status == "reported" and d.emailed is not None
    ]


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
        "news_lines": news_lines(rec, currency),
        "reported_lines": reported_lines(rec, currency),
    }


def _exact(value: Decimal, *, signed: bool = False) -> str:
    """Every digit, at least 2 decimals: 92.418264, -0.009083, 100.00."""
    text = fmt.price(Decimal(value), 2)
    return f"+{text}" if signed and value > 0 else text
