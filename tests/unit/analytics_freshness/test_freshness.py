"""Feed ages against their limits: exactly at the limit is fresh, a second over is stale, a feed
never loaded is stale; the one-line descriptions the alert email carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipeline.analytics.freshness import FeedAge, due_announcements, feed_ages
from pipeline.settings import Settings

NOW = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


def age(hours_ago: float | None, limit_hours: float = 26, feed: str = "voice") -> FeedAge:
    loaded = None if hours_ago is None else NOW - timedelta(hours=hours_ago)
    return FeedAge(feed, "021001", loaded, timedelta(hours=limit_hours), NOW)


def test_limit_is_inclusive():
    assert not age(26).stale
    assert age(26 + 1 / 3600).stale
    assert not age(0.5).stale


def test_never_loaded_is_stale():
    assert age(None).stale
    assert age(None).describe() == "voice 021001: never loaded (limit 26 h)"


def test_descriptions():
    assert age(30.54).describe() == "voice 021001: last loaded 30.5 h ago (limit 26 h)"
    assert age(3, 2, "balance").describe() == "balance: last loaded 3 h ago (limit 2 h)"


def test_every_configured_feed_is_listed_with_its_own_limit():
    settings = Settings().with_overrides(
        voice={"tech_prefixes": ["current", "021001"]},
        sms={"channels": [{"username": "acme", "id": "1"}]},
        alerts={"sms_max_age_hours": 50, "balance_max_age_hours": 1.5},
    )
    ages = feed_ages(settings, None, NOW)  # no warehouse yet
    assert {kind: [a.source for a in items] for kind, items in ages.items()} == {
        "voice": ["current", "021001"],
        "sms": ["acme:1"],
        "balance": ["balance"],
    }
    assert ages["sms"][0].max_age == timedelta(hours=50)
    assert ages["balance"][0].max_age == timedelta(hours=1.5)
    assert all(a.stale for items in ages.values() for a in items)


CHECKED_AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


def stale(source: str) -> FeedAge:
    return FeedAge("voice", source, None, timedelta(hours=26), CHECKED_AT)


def test_a_feed_is_announced_when_it_turns_stale_and_again_after_the_repeat():
    due, record = due_announcements([stale("021001")], {}, DAY, CHECKED_AT)
    assert [age.key for age in due] == ["voice 021001"] and record == {"voice 021001": CHECKED_AT}

    hour_later = CHECKED_AT + timedelta(hours=1)
    due, record = due_announcements([stale("021001")], record, DAY, hour_later)
    assert due == [] and record == {"voice 021001": CHECKED_AT}  # the hourly check: no second email

    day_later = CHECKED_AT + DAY
    due, record = due_announcements([stale("021001")], record, DAY, day_later)
    assert [age.key for age in due] == ["voice 021001"] and record == {"voice 021001": day_later}


def test_a_new_stale_feed_is_announced_alone_and_a_fresh_one_leaves_the_record():
    record = {"voice 021001": CHECKED_AT, "voice 021002": CHECKED_AT}
    later = CHECKED_AT + timedelta(hours=2)
    due, record = due_announcements([stale("021001"), stale("021003")], record, DAY, later)
    assert [age.key for age in due] == ["voice 021003"]
    assert record == {"voice 021001": CHECKED_AT, "voice 021003": later}  # 021002 loaded again
