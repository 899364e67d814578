"""Issue 16.4 against a real warehouse: a day's balance spend (top-ups apart) against its
costed calls, exact, judged by reconcile.tolerance_pct (<= tolerance reconciles)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from support.cdr import DAY, HISTORY, asterisk_line, cdr_settings, insert_history, write_master

from pipeline.stages.cdr import cost_days, import_file
from pipeline.stages.reconcile import check_day
from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.migrate import read_sql

D1 = date(2026, 12, 1)
CALLS = [("c1", "442079460000", 95), ("c2", "35312345678", 61), ("c3", "021001441234567", 7)]
OPENING = Decimal("500")
TOP_UP = Decimal("250")


def costed_day(tmp_path, **reconcile):
    settings = cdr_settings(tmp_path / "data").with_overrides(reconcile=reconcile)
    insert_history(settings, HISTORY)
    lines = [asterisk_line(cid, dialled, DAY + timedelta(hours=3 + n), sec)
             for n, (cid, dialled, sec) in enumerate(CALLS)]  # fmt: skip
    import_file(settings, write_master(tmp_path / "Master.csv", lines))
    [costing] = cost_days(settings, [D1], who="test")
    return settings, costing.new_total


def snapshots(settings, balances):
    """Balance snapshots: the evening before (OPENING), then ``balances`` through D1."""
    with Warehouse(settings).writer() as con:
        moments = [DAY - timedelta(hours=1)] + [DAY + timedelta(hours=2 + 5 * n)
                                                for n in range(len(balances))]  # fmt: skip
        for n, (at, balance) in enumerate(zip(moments, [OPENING, *balances], strict=True)):
            con.execute(
                read_sql("queries/balance_snapshot_insert.sql"),
                [n + 1, at, "a@example.com", balance, Decimal(0), Decimal(0), "x", "raw"],
            )


def spent(settings, total):
    """Spend ``total`` across the day around a top-up: down, up by TOP_UP, down again."""
    half = (total / 2).quantize(Decimal("0.00000001"))
    after_first = OPENING - half
    snapshots(settings, [after_first, after_first + TOP_UP, after_first + TOP_UP - (total - half)])


@pytest.mark.parametrize(
    ("extra", "within"),
    [
        (lambda cost: cost * Decimal("0.02"), True),  # exactly 2%: within
        (lambda cost: cost * Decimal("0.02") + Decimal("0.00000001"), False),  # just beyond
        (lambda cost: -cost * Decimal("0.02"), True),  # the balance lost 2% less
        (lambda cost: -cost * Decimal("0.03"), False),
    ],
)
def test_balance_spend_against_costed_calls(tmp_path, extra, within):
    settings, own_cost = costed_day(tmp_path)
    assert own_cost > 0
    spend = own_cost + extra(own_cost)
    spent(settings, spend)
    checked = check_day(settings, D1)
    day = checked.reconciled
    assert day is not None
    assert (day.spend, day.topups, day.own_cost, day.calls) == (spend, TOP_UP, own_cost, 3)
    assert day.difference == spend - own_cost
    expected_pct = ((spend - own_cost) * 100 / own_cost).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    assert day.pct == expected_pct
    assert day.within_tolerance is within and checked.passed is within


def test_the_tolerance_is_a_setting(tmp_path):
    settings, own_cost = costed_day(tmp_path, tolerance_pct="5")
    spent(settings, own_cost * Decimal("1.04"))
    checked = check_day(settings, D1)
    assert checked.reconciled is not None and checked.reconciled.tolerance_pct == 5
    assert checked.passed


def test_a_day_without_balance_snapshots_is_no_balance_data(tmp_path):
    settings, own_cost = costed_day(tmp_path)
    checked = check_day(settings, D1)
    day = checked.reconciled
    assert day is not None and (day.calls, day.own_cost) == (3, own_cost)
    assert (day.spend, day.topups, day.difference, day.pct) == (None, None, None, None)
    assert day.within_tolerance is None and checked.passed  # nothing to judge


def test_a_first_snapshot_alone_measures_nothing(tmp_path):
    settings, _ = costed_day(tmp_path)
    with Warehouse(settings).writer() as con:
        con.execute(
            read_sql("queries/balance_snapshot_insert.sql"),
            [1, DAY + timedelta(hours=12), "a@example.com", OPENING, 0, 0, "x", "raw"],
        )
    day = check_day(settings, D1).reconciled
    assert day is not None and day.spend is None and day.within_tolerance is None


def test_spend_on_a_day_without_costed_calls_is_beyond_tolerance(tmp_path):
    settings = cdr_settings(tmp_path / "data")
    snapshots(settings, [OPENING - Decimal("30")])  # debited, and the switch made no call

    checked = check_day(settings, D1)

    day = checked.reconciled
    assert day is not None
    assert (day.spend, day.topups, day.calls, day.own_cost) == (Decimal(30), 0, 0, 0)
    assert (day.difference, day.pct) == (Decimal(30), None)
    assert day.within_tolerance is False and not checked.passed


def test_no_spend_and_no_costed_calls_reconciles(tmp_path):
    settings = cdr_settings(tmp_path / "data")
    snapshots(settings, [OPENING])
    checked = check_day(settings, D1)
    day = checked.reconciled
    assert day is not None and (day.spend, day.calls, day.difference) == (0, 0, 0)
    assert day.within_tolerance is True and checked.passed
