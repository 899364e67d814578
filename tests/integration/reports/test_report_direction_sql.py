"""voice_rate_change's reference-call direction is the email's up/down: an analyst's count by
direction in SQL equals the report's, also where the price per minute and the reference call
disagree (increment changes), and for a reference call other than the default."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from support.reports import T0, T1, Rate

from pipeline.reports import build_report, report_and_send

INCREMENTS = [(1, 1), (30, 6), (60, 1), (60, 60)]


def generated_change_set(seed: int) -> tuple[list[Rate], list[Rate]]:
    """300 prefixes; day 2 moves prices a little, a lot or not at all, and changes increments
    of many, so per-minute and per-call direction often disagree."""
    rng = random.Random(seed)
    before, after = [], []
    for n in range(300):
        prefix = f"{rng.randint(1, 9)}{n:04d}"
        price = rng.randint(1000, 20000)
        a, b = rng.choice(INCREMENTS)
        before.append(Rate(prefix, f"Dest {n}", f"0.{price:06d}", a, b))
        new_price = price + rng.choice([-900, -3, -1, 0, 0, 1, 2, 700])
        new_a, new_b = rng.choice(INCREMENTS) if rng.random() < 0.6 else (a, b)
        after.append(Rate(prefix, f"Dest {n}", f"0.{new_price:06d}", new_a, new_b))
    return before, after


@pytest.mark.parametrize("reference_call_seconds", [150, 45])
def test_sql_counts_by_direction_equal_the_emails(con, settings, decks, reference_call_seconds):
    settings = settings.with_overrides(report={"reference_call_seconds": reference_call_seconds})
    before, after = generated_change_set(seed=reference_call_seconds)
    decks.snapshot("current", T0, before)
    decks.snapshot("current", T1, after)

    report = build_report(con, settings, now=T1)
    email = Counter(row.category for section in report.sections for row in section.rows)
    assert report_and_send(con, settings, now=T1) is not None  # records the setting it used

    sql = dict(
        con.execute("SELECT direction, count(*) FROM voice_rate_change GROUP BY ALL").fetchall()
    )
    assert sql == dict(email)
    disagree = con.execute(
        "SELECT count(*) FROM voice_rate_change "
        "WHERE (change_type = 'increase' AND direction = 'down') "
        "   OR (change_type = 'decrease' AND direction = 'up') "
        "   OR (change_type = 'increment_change' AND direction IN ('up', 'down'))"
    ).fetchall()[0][0]
    assert disagree > 10  # the case the per-minute change_type gets wrong
    seconds = con.execute(
        "SELECT DISTINCT reference_call_seconds FROM voice_rate_change"
    ).fetchall()
    assert seconds == [(reference_call_seconds,)]


def test_reference_call_costs_in_the_view_equal_the_emails(con, settings, decks):
    before, after = generated_change_set(seed=7)
    decks.snapshot("current", T0, before)
    decks.snapshot("current", T1, after)

    report = build_report(con, settings, now=T1)
    email = {
        row.change_id: (row.old_call_cost, row.new_call_cost)
        for section in report.sections
        for row in section.rows
        if row.change_type in ("increase", "decrease", "increment_change")
    }
    report_and_send(con, settings, now=T1)
    view = {
        change_id: (old, new)
        for change_id, old, new in con.execute(
            "SELECT change_id, old_call_cost, new_call_cost FROM voice_rate_change "
            "WHERE change_type IN ('increase', 'decrease', 'increment_change')"
        ).fetchall()
    }
    assert view == email
