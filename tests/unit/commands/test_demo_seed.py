"""The demo's market seed: whatever the date, day 2 announces a change and a short-notice increase.

The market's daily events depend on the date, so no fixed seed shows both every day; the demo
takes the first seed from ``emulator.seed`` that does (pure functions: no server, no Dagster).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from pipeline.commands.demo import demo_market, notice_outlook, showcase_seed
from pipeline.settings import DEMO_TECH_PREFIXES, Settings

DEFAULTS = Settings()
TECH_PREFIXES = tuple(DEMO_TECH_PREFIXES)
NOTICE_DAYS = DEFAULTS.report.notice_days
# today-ish and a spread of dates: month ends, a leap day, a new year
DAY2S = [date.today() + timedelta(days=k) for k in range(0, 30, 10)] + [
    date(2027, 1, 1),
    date(2028, 2, 29),
]


def outlook(seed: int, day2: date, deck_size: int) -> tuple[int, int]:
    day1 = day2 - timedelta(days=1)
    market = demo_market(seed, day1, deck_size, TECH_PREFIXES)
    return notice_outlook(market, day1, day2, notice_days=NOTICE_DAYS)


@pytest.mark.parametrize("deck_size", [400, DEFAULTS.emulator.deck_size])
@pytest.mark.parametrize("day2", DAY2S, ids=str)
def test_showcase_seed_shows_an_announcement_and_a_short_notice_increase(day2, deck_size):
    first = DEFAULTS.emulator.seed
    seed = showcase_seed(
        first,
        (day2 - timedelta(days=1), day2),
        deck_size=deck_size,
        tech_prefixes=TECH_PREFIXES,
        notice_days=NOTICE_DAYS,
    )
    announced, short_notice = outlook(seed, day2, deck_size)
    assert announced >= 1 and short_notice >= 1
    # the first such seed: the default itself whenever it shows both
    for earlier in range(first, seed):
        announced, short_notice = outlook(earlier, day2, deck_size)
        assert not (announced and short_notice)


def test_notice_outlook_counts_only_what_day_2_brings():
    day2 = date(2026, 11, 26)
    day1 = day2 - timedelta(days=1)
    market = demo_market(7, day1, 400, TECH_PREFIXES)
    # day 1 against itself: everything future-dated was already seen
    assert notice_outlook(market, day1, day1, notice_days=NOTICE_DAYS) == (0, 0)
    # day 2 of seed 7 announces four changes, all on 021001's deck (021002's announces none):
    # 3538995 0.09 -> 0.0963 on 12-08 (12 days ahead), 38345 0.0996 -> 0.1051 on 11-29 (3 days:
    # the one short-notice increase), 52 and 381 decreases
    day2_deck = market.day(day2).voice_deck("021001")
    announced_rows = {
        (r.prefix, r.effective_date, r.price)
        for r in day2_deck
        if r.effective_date is not None and r.effective_date > day2
    } - {(r.prefix, r.effective_date, r.price) for r in market.day(day1).voice_deck("021001")}
    assert announced_rows == {
        ("3538995", date(2026, 12, 8), Decimal("0.0963")),
        ("38345", date(2026, 11, 29), Decimal("0.1051")),
        ("52", date(2026, 12, 4), Decimal("0.4086")),
        ("381", date(2026, 12, 9), Decimal("0.00828")),
    }
    assert notice_outlook(market, day1, day2, notice_days=NOTICE_DAYS) == (4, 1)
    # "current" is 021001's deck: counted once, not twice
    only_plans = demo_market(7, day1, 400, ("021001", "021002"))
    assert notice_outlook(only_plans, day1, day2, notice_days=NOTICE_DAYS) == (4, 1)
    # notice of 14 days: the 12-day increase is short of it too; of 0 days: nothing is
    assert notice_outlook(market, day1, day2, notice_days=14) == (4, 2)
    assert notice_outlook(market, day1, day2, notice_days=0) == (4, 0)


def test_a_month_long_demo_never_runs_out_of_funds_so_every_day_has_calls():
    # the 31-day demo of seed 7 from 2026-11-07 left the balance at -2.76 and -0.06: the
    # carrier refused every call of 2026-11-15 and 2026-11-29, which then could not reconcile
    day1 = date(2026, 11, 7)
    market = demo_market(7, day1, 400, TECH_PREFIXES)
    for n in range(1, 31):
        before = market.day(day1 + timedelta(days=n - 1)).customer()
        assert before["balance"] + before["temporary_credit"] > 0, day1 + timedelta(days=n)  # type: ignore[operator]
        assert market.day(day1 + timedelta(days=n)).calls().carrier_calls
