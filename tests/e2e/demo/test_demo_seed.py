"""The demo's market seed: whatever the date, day 2 announces a change and a short-notice increase.

The market's daily events depend on the date, so no fixed seed shows both every day; the demo
takes the first seed from ``emulator.seed`` that does (pure functions: no server, no Dagster).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pipeline.commands.demo import notice_outlook, showcase_seed
from pipeline.commpeak.emulator import Market
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
    market = Market(seed, day1, deck_size, TECH_PREFIXES, effective_dates=True)
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
    market = Market(7, day1, 400, TECH_PREFIXES, effective_dates=True)
    # day 1 against itself: everything future-dated was already seen
    assert notice_outlook(market, day1, day1, notice_days=NOTICE_DAYS) == (0, 0)
    announced, short_notice = notice_outlook(market, day1, day2, notice_days=NOTICE_DAYS)
    assert announced >= short_notice >= 0
    # a notice setting of 0 days: nothing can be short of it
    assert notice_outlook(market, day1, day2, notice_days=0) == (announced, 0)
