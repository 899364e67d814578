"""The email's balance-vs-costs lines name every day reconcile_daily has: a day the balance was
debited with no costed call is beyond tolerance, a day with costed calls and no balance data
is named as such, and the "all N day(s) are within" count is of the days judged."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pipeline.reports.reconcile import Reconciliation, day_lines
from pipeline.warehouse.reconcile import ReconcileDay

D = Decimal
TOLERANCE = D(2)


def day(n: int, spend: str | None, own_cost: str, calls: int) -> ReconcileDay:
    """A reconcile_daily row of 2026-11-<n> judged as the view judges it."""
    cost = D(own_cost)
    paid = None if spend is None else D(spend)
    difference = None if paid is None else paid - cost
    within = None if difference is None else abs(difference) * 100 <= cost * TOLERANCE
    pct = (
        None if difference is None or not cost else (difference * 100 / cost).quantize(D("0.0001"))
    )
    return ReconcileDay(date(2026, 11, n), paid, None if paid is None else D(0), calls, cost,
                        difference, pct, TOLERANCE, within)  # fmt: skip


def lines(*days: ReconcileDay) -> list[str]:
    rec = Reconciliation(date(2026, 11, 10), date(2026, 11, 16), TOLERANCE, days, (), ())
    return day_lines(rec, "USD")


def test_spend_without_costed_calls_is_a_day_beyond_tolerance():
    assert lines(day(14, "10", "10", 5), day(15, "30", "0", 0), day(16, "5", "5", 2)) == [
        "2026-11-15: the balance spent 30.00 USD (no top-up), no call of ours was costed that "
        "day: difference +30.00, beyond the 2% tolerance.",
        "Within the 2% tolerance: 2026-11-14, 2026-11-16.",
    ]


def test_a_day_without_balance_data_is_named_not_counted_within():
    assert lines(day(14, "10", "10", 5), day(15, None, "7", 3), day(16, "0", "0", 0)) == [
        "Balance vs own costs: all 2 day(s) of 2026-11-14..2026-11-16 are within the 2% tolerance.",
        "No balance data (costed calls, no balance snapshots to compare): 2026-11-15.",
    ]


def test_only_days_without_balance_data():
    assert lines(day(15, None, "7", 3)) == [
        "Balance vs own costs: no day of 2026-11-10..2026-11-16 has balance data.",
        "No balance data (costed calls, no balance snapshots to compare): 2026-11-15.",
    ]


def test_a_day_beyond_with_calls_keeps_its_wording():
    assert lines(day(15, "10.5", "10", 4)) == [
        "2026-11-15: the balance spent 10.50 USD (no top-up), our 4 costed call(s) cost 10.00: "
        "difference +0.50 (+5.00%), beyond the 2% tolerance."
    ]
