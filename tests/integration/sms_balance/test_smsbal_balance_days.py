"""Balance snapshots over simulated weeks: daily spend with top-ups apart, exact runway."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from support.sms_balance import at, customer_body

from pipeline.warehouse.balance import runway
from pipeline.warehouse.errors import SnapshotLoadError

HOURS = (0, 4, 8, 12, 16, 20)
TOPUP_AT = at(5, 8)
SMS_TOPUP_AT = at(9, 12)
SECOND_TOPUP_AT = at(17, 0)
THIRD_TOPUP_AT = at(21, 0)
TOPUPS = {
    TOPUP_AT: Decimal("200"),
    SECOND_TOPUP_AT: Decimal("75.5"),
    THIRD_TOPUP_AT: Decimal("100"),
}


def simulate() -> list[tuple[datetime, Decimal, Decimal]]:
    """21 days, a snapshot every 4 hours: steady spend, a top-up on day 5, the balance running
    dry (exactly 0) on days 4, 12-16 and 19-20, top-ups on days 17 and 21. SMS spend has its
    own top-up."""
    balance, sms = Decimal("100"), Decimal("40")
    out = []
    for step, moment in enumerate(at(day, hour) for day in range(1, 22) for hour in HOURS):
        if step:
            if moment in TOPUPS:
                balance += TOPUPS[moment]
            else:
                spend = Decimal("3") + Decimal("1.5") * (step % 3) + Decimal("0.00000001")
                balance = max(Decimal(0), balance - spend)
            if moment == SMS_TOPUP_AT:
                sms += Decimal("25")
            else:
                sms = max(Decimal(0), sms - Decimal("0.0125") * (step % 4))
        out.append((moment, balance, sms))
    return out


def expected_daily(snapshots):
    """Oracle: each movement counts on the UTC day of the later snapshot."""
    days = defaultdict(
        lambda: {
            "spend": Decimal(0),
            "topups": Decimal(0),
            "sms_spend": Decimal(0),
            "sms_topups": Decimal(0),
        }
    )
    previous = None
    for moment, balance, sms in snapshots:
        day = days[moment.date()]
        if previous is None:
            day["opening"], day["sms_opening"] = balance, sms
        else:
            _, prev_balance, prev_sms = previous
            day.setdefault("opening", prev_balance)
            day.setdefault("sms_opening", prev_sms)
            day["spend"] += max(Decimal(0), prev_balance - balance)
            day["topups"] += max(Decimal(0), balance - prev_balance)
            day["sms_spend"] += max(Decimal(0), prev_sms - sms)
            day["sms_topups"] += max(Decimal(0), sms - prev_sms)
        day["closing"], day["sms_closing"] = balance, sms
        previous = (moment, balance, sms)
    return {
        d: (
            v["opening"],
            v["closing"],
            v["spend"],
            v["topups"],
            v["sms_opening"],
            v["sms_closing"],
            v["sms_spend"],
            v["sms_topups"],
        )
        for d, v in days.items()
    }


def daily(pipeline) -> dict:
    rows = pipeline.query(
        "SELECT day, balance_opening, balance_closing, balance_spend, balance_topups, "
        "sms_balance_opening, sms_balance_closing, sms_balance_spend, sms_balance_topups "
        "FROM balance_daily ORDER BY day"
    )
    return {r[0]: r[1:] for r in rows}


def half_up(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def test_three_weeks_of_balance(pipeline):
    snapshots = simulate()
    with pipeline.run():
        for moment, balance, sms in snapshots:
            load = pipeline.fetch_customer(customer_body(balance, sms), moment)
            assert not load.replayed
    assert pipeline.query("SELECT count(*) FROM balance_snapshot") == [(126,)]

    found = daily(pipeline)
    assert found == expected_daily(snapshots)
    day5 = found[TOPUP_AT.date()]
    assert day5[3] == Decimal("200")  # the top-up, not netted against the day's spend
    assert day5[2] > 0 and day5[1] == day5[0] + day5[3] - day5[2]
    for opening, closing, spend, topups, *_ in found.values():
        assert closing == opening + topups - spend
    # the balance ran dry: days at exactly zero spend nothing
    dry = [d for d, v in found.items() if v[0] == 0 and v[1] == 0]
    assert dry and all(found[d][2] == 0 for d in dry)
    assert found[SECOND_TOPUP_AT.date()][3] == Decimal("75.5")
    assert found[SMS_TOPUP_AT.date()][7] == Decimal("25")

    # runway at the last snapshot: 42 intervals, exactly 7 days
    last_at, last_balance, last_sms = snapshots[-1]
    window = [
        (prev, cur)
        for prev, cur in zip(snapshots, snapshots[1:], strict=False)
        if prev[0] >= last_at - timedelta(days=7)
    ]
    assert len(window) == 42
    spend = sum(max(Decimal(0), p[1] - c[1]) for p, c in window)
    sms_spend = sum(max(Decimal(0), p[2] - c[2]) for p, c in window)
    with pipeline.warehouse.reader() as con:
        run = runway(con)
    assert run.as_of == last_at and run.balance == last_balance
    assert run.window_start == last_at - timedelta(days=7)
    assert run.window_days == Decimal("7")
    assert run.spend_in_window == spend
    assert run.avg_daily_spend == half_up(spend / 7, "0.00000001")
    assert run.days_left == half_up(last_balance * 7 / spend, "0.01")
    assert run.sms_avg_daily_spend == half_up(sms_spend / 7, "0.00000001")
    assert run.sms_days_left == half_up(last_sms * 7 / sms_spend, "0.01")
    # the same through the view, typed DECIMAL end to end (no DOUBLE anywhere)
    types = dict(
        pipeline.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'balance_runway'"
        )
    )
    assert types["avg_daily_spend"] == "DECIMAL(18,8)" and types["days_left"] == "DECIMAL(12,2)"


def test_runway_with_less_than_a_week_and_edge_cases(pipeline):
    # day 1 06:00 -> day 2 18:00: 1.5 days, spend 3 + 1.5 = 4.5 (the top-up is not spend)
    pipeline.fetch_customer(customer_body(Decimal("100"), Decimal("10")), at(1))
    pipeline.fetch_customer(customer_body(Decimal("97"), Decimal("10")), at(2))
    pipeline.fetch_customer(customer_body(Decimal("120"), Decimal("10")), at(2, 12))
    pipeline.fetch_customer(customer_body(Decimal("118.5"), Decimal("10")), at(2, 18))
    with pipeline.warehouse.reader() as con:
        run = runway(con)
    assert run.window_days == Decimal("1.5")
    assert run.spend_in_window == Decimal("4.5")
    assert run.avg_daily_spend == Decimal("3")  # 4.5 / 1.5
    assert run.days_left == Decimal("39.50")  # 118.5 / 3
    assert run.sms_avg_daily_spend == 0 and run.sms_days_left is None  # no SMS spend: NULL

    # the balance hits zero: no runway left
    pipeline.fetch_customer(customer_body(Decimal("0"), Decimal("10")), at(3))
    with pipeline.warehouse.reader() as con:
        assert runway(con).days_left == Decimal("0")
        daily_rows = con.execute(
            "SELECT day::VARCHAR, balance_opening, balance_closing, balance_spend, "
            "balance_topups, snapshots FROM balance_daily ORDER BY day"
        ).fetchall()
    assert daily_rows == [
        ("2026-11-01", Decimal("100"), Decimal("100"), Decimal("0"), Decimal("0"), 1),
        ("2026-11-02", Decimal("100"), Decimal("118.5"), Decimal("4.5"), Decimal("23"), 3),
        ("2026-11-03", Decimal("118.5"), Decimal("0"), Decimal("118.5"), Decimal("0"), 1),
    ]


def test_single_snapshot_has_no_runway(pipeline):
    pipeline.fetch_customer(customer_body(Decimal("69.64622"), Decimal("99.63218")), at(1))
    with pipeline.warehouse.reader() as con:
        run = runway(con)
    assert run.balance == Decimal("69.64622")
    assert (run.window_start, run.avg_daily_spend, run.days_left) == (None, None, None)


def test_replaying_a_fetch_is_a_no_op(pipeline):
    landed = pipeline.land("customer", "customer", customer_body(Decimal("5"), Decimal("1")), at(1))
    first = pipeline.load_customer(landed)
    again = pipeline.load_customer(landed)
    assert again.replayed and again.snapshot_id == first.snapshot_id
    assert pipeline.query("SELECT count(*) FROM balance_snapshot") == [(1,)]
    other = pipeline.land("customer", "customer", customer_body(Decimal("6"), Decimal("1")), at(1))
    with pytest.raises(SnapshotLoadError, match="already loaded from different content"):
        pipeline.load_customer(other)


def test_runway_needs_a_day_of_history(pipeline):
    """Issue 13: minutes of spend say nothing about a daily rate (the demo once showed 0.04
    days left at 10,480/day): under a day of history the runway says 'not enough history'."""
    pipeline.fetch_customer(customer_body(Decimal("300"), Decimal("50")), at(1, 6))
    pipeline.fetch_customer(
        customer_body(Decimal("299"), Decimal("49.5")), at(1, 6) + timedelta(minutes=8)
    )
    with pipeline.warehouse.reader() as con:
        run = runway(con)
    assert run.spend_in_window == Decimal("1") and run.sms_spend_in_window == Decimal("0.5")
    assert (run.avg_daily_spend, run.days_left) == (None, None)
    assert (run.sms_avg_daily_spend, run.sms_days_left) == (None, None)
    assert run.runway_note == "not enough history"

    # a day after the first snapshot: a daily rate, and no note
    pipeline.fetch_customer(customer_body(Decimal("290"), Decimal("48")), at(2, 6))
    with pipeline.warehouse.reader() as con:
        run = runway(con)
    assert run.window_days == Decimal("1")
    assert run.avg_daily_spend == Decimal("10") and run.days_left == Decimal("29.00")
    assert run.sms_avg_daily_spend == Decimal("2") and run.sms_days_left == Decimal("24.00")
    assert run.runway_note is None


def test_single_snapshot_says_not_enough_history(pipeline):
    pipeline.fetch_customer(customer_body(Decimal("12"), Decimal("3")), at(1))
    with pipeline.warehouse.reader() as con:
        assert runway(con).runway_note == "not enough history"
