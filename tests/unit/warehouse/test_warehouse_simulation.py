"""A year of daily downloads with ~1% churn: history grows with changes, not with days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from benchmarks.synthetic import churn, voice_deck
from pipeline.warehouse.voice import deck_at

START = datetime(2025, 11, 1, 6, 0, tzinfo=UTC)
DECK_ROWS = 2000
DAYS = 365
COMPARED = ["prefix", "destination", "price", "initial_seconds", "increment_seconds"]


@pytest.mark.slow  # ~365 small loads: several seconds
def test_a_year_of_daily_decks(con, load):
    deck = voice_deck(DECK_ROWS, seed=5)
    kept_days: dict[int, pl.DataFrame] = {}
    opened_total = changed_days = 0
    for day in range(DAYS):
        if day and day % 7 not in (5, 6):  # weekends: the carrier publishes the same deck
            deck = churn(deck, 0.01, seed=day)
        result = load(deck, START + timedelta(days=day))
        if day and day % 7 in (5, 6):
            assert (result.opened, result.closed) == (0, 0)
        changed_days += result.opened > 0
        opened_total += result.opened
        if day in (0, 100, 200, DAYS - 1):
            kept_days[day] = deck

    history_rows = con.execute("SELECT count(*) FROM voice_rate").fetchall()[0][0]
    changes = opened_total - DECK_ROWS
    assert changed_days > 250
    assert history_rows == opened_total  # every row is a change (or the first deck)
    assert history_rows < 2 * (DECK_ROWS + changes)
    assert history_rows < 5 * DECK_ROWS  # a copy per day would be 365x
    for day, expected in kept_days.items():  # as-of reads rebuild each day's deck exactly
        stored = deck_at(con, "current", START + timedelta(days=day, hours=1))
        assert (
            stored.select(COMPARED).sort("prefix").equals(expected.select(COMPARED).sort("prefix"))
        ), f"day {day}"
