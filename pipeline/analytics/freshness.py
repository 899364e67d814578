"""Freshness: which feeds have not loaded for longer than their schedule allows.

A feed is one voice tech prefix, one SMS channel, or the balance; its age is the time since the
``fetched_at`` of its newest snapshot in the published warehouse. Limits are ``[alerts]
voice_max_age_hours`` / ``sms_max_age_hours`` / ``balance_max_age_hours``. A configured feed
with no snapshot at all is stale too ("never loaded").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from pipeline.settings import Settings
from pipeline.warehouse.migrate import read_sql

FEEDS = ("voice", "sms", "balance")


@dataclass(frozen=True)
class FeedAge:
    feed: str  # voice | sms | balance
    source: str  # tech prefix, SMS channel "username:id", or "balance"
    last_loaded_at: datetime | None  # None: never loaded
    max_age: timedelta
    now: datetime

    @property
    def stale(self) -> bool:
        return self.last_loaded_at is None or self.now - self.last_loaded_at > self.max_age

    @property
    def age_hours(self) -> float | None:
        if self.last_loaded_at is None:
            return None
        return round((self.now - self.last_loaded_at).total_seconds() / 3600, 1)

    @property
    def key(self) -> str:
        """ "voice 021001", "sms acme:1", "balance": one feed, across checks."""
        return "balance" if self.feed == "balance" else f"{self.feed} {self.source}"

    def describe(self) -> str:
        """One line: "voice 021001: last loaded 30.5 h ago (limit 26 h)"."""
        name = self.key
        limit = f"limit {self.max_age.total_seconds() / 3600:g} h"
        if self.last_loaded_at is None:
            return f"{name}: never loaded ({limit})"
        return f"{name}: last loaded {self.age_hours:g} h ago ({limit})"


def expected_feeds(settings: Settings) -> dict[str, list[str]]:
    """The feeds the settings say should be loading, by kind."""
    return {
        "voice": list(settings.voice.tech_prefixes),
        "sms": [channel.key for channel in settings.sms.channels],
        "balance": ["balance"],
    }


def max_ages(settings: Settings) -> dict[str, timedelta]:
    alerts = settings.alerts
    return {
        "voice": timedelta(hours=alerts.voice_max_age_hours),
        "sms": timedelta(hours=alerts.sms_max_age_hours),
        "balance": timedelta(hours=alerts.balance_max_age_hours),
    }


def last_loads(con: duckdb.DuckDBPyConnection | None) -> dict[tuple[str, str], datetime]:
    """(feed, source) -> newest fetched_at; no warehouse yet (``con`` None): nothing loaded."""
    if con is None:
        return {}
    rows = con.execute(read_sql("queries/freshness_last_loads.sql")).fetchall()
    return {(feed, source): loaded_at for feed, source, loaded_at in rows}


def feed_ages(
    settings: Settings, con: duckdb.DuckDBPyConnection | None, now: datetime
) -> dict[str, list[FeedAge]]:
    """Every configured feed's age, by kind (voice, sms, balance)."""
    loaded = last_loads(con)
    limits = max_ages(settings)
    return {
        feed: [
            FeedAge(feed, source, loaded.get((feed, source)), limits[feed], now)
            for source in sources
        ]
        for feed, sources in expected_feeds(settings).items()
    }


def due_announcements(
    stale: list[FeedAge], announced: dict[str, datetime], repeat: timedelta, now: datetime
) -> tuple[list[FeedAge], dict[str, datetime]]:
    """Which stale feeds to email now, and the record to keep: a feed is announced when it
    becomes stale and again every ``repeat`` while it stays stale, not on every check. A
    feed that is fresh again leaves the record, so its next staleness is news again."""
    due = [age for age in stale if age.key not in announced or now - announced[age.key] >= repeat]
    record = {age.key: announced[age.key] for age in stale if age.key in announced}
    record.update({age.key: now for age in due})
    return due, record
