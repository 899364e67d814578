"""History (SCD2) semantics of voice_rate: what each snapshot adds, closes and withdraws."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from pipeline.warehouse.errors import SnapshotLoadError

T0 = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
DAY = timedelta(days=1)
D = Decimal


def test_first_load_opens_every_row_and_is_the_baseline(load, rates, changes):
    result = load([("44", "0.1"), ("4420", "0.2")], T0)

    assert (result.opened, result.closed, result.unchanged) == (2, 0, 0)
    assert rates() == [("44", D("0.1"), T0, None, None), ("4420", D("0.2"), T0, None, None)]
    assert changes() == []  # the first snapshot is the baseline


def test_unchanged_deck_adds_no_rows(con, load):
    deck = [("44", "0.1"), ("4420", "0.2"), ("0044", "0.3")]
    load(deck, T0)
    before = con.execute("SELECT * FROM voice_rate ORDER BY prefix").fetchall()

    result = load(deck, T0 + DAY)

    assert (result.opened, result.closed, result.withdrawn, result.unchanged) == (0, 0, 0, 3)
    assert con.execute("SELECT * FROM voice_rate ORDER BY prefix").fetchall() == before


def test_changed_deck_records_only_the_changes(load, rates, changes):
    load([("44", "0.1"), ("4420", "0.2"), ("49", "0.3")], T0)
    t1 = T0 + DAY

    result = load([("44", "0.1"), ("4420", "0.25"), ("49", "0.2999")], t1)

    assert (result.opened, result.closed, result.unchanged) == (2, 2, 1)
    assert rates("44") == [("44", D("0.1"), T0, None, None)]
    assert rates("4420") == [
        ("4420", D("0.2"), T0, t1, None),
        ("4420", D("0.25"), t1, None, None),
    ]
    assert changes() == [
        ("4420", "increase", D("0.2"), D("0.25"), t1),
        ("49", "decrease", D("0.3"), D("0.2999"), t1),
    ]


def test_increment_and_destination_changes_are_versions(con, load):
    load([("44", "0.1", "UK", None, "1/1"), ("49", "0.2", "Germany")], T0)
    load([("44", "0.1", "UK", None, "60/60"), ("49", "0.2", "Germany Fixed")], T0 + DAY)

    rows = con.execute(
        "SELECT prefix, change_type, old_destination, new_destination, new_initial_seconds "
        "FROM voice_rate_change ORDER BY prefix"
    ).fetchall()
    assert rows == [
        ("44", "increment_change", "UK", "UK", 60),
        ("49", "renamed", "Germany", "Germany Fixed", 1),
    ]


def test_removed_then_readded_prefix(load, rates, changes):
    t1, t2 = T0 + DAY, T0 + 2 * DAY
    load([("44", "0.1"), ("49", "0.2")], T0)

    removed = load([("49", "0.2")], t1)
    readded = load([("44", "0.1"), ("49", "0.2")], t2)

    assert (removed.opened, removed.closed) == (0, 1)
    assert (readded.opened, readded.closed) == (1, 0)
    assert rates("44") == [("44", D("0.1"), T0, t1, None), ("44", D("0.1"), t2, None, None)]
    assert changes() == [
        ("44", "removed", D("0.1"), None, t1),
        ("44", "new", None, D("0.1"), t2),
    ]


def test_null_currency_compares_equal(con, load, make_deck):
    deck = make_deck([("44", "0.1")], currency=None)
    load(deck, T0)
    assert load(deck, T0 + DAY).unchanged == 1
    assert con.execute("SELECT count(*) FROM voice_rate").fetchall() == [(1,)]


def test_tech_prefixes_are_independent(load, rates):
    load([("44", "0.1")], T0, tech_prefix="current")
    load([("44", "0.5")], T0, tech_prefix="021001")
    load([], T0 + DAY, tech_prefix="021001")  # an empty deck closes only its own scope

    assert rates(tech_prefix="current") == [("44", D("0.1"), T0, None, None)]
    assert rates(tech_prefix="021001") == [("44", D("0.5"), T0, T0 + DAY, None)]


def test_duplicate_prefix_is_refused(load):
    with pytest.raises(SnapshotLoadError, match="same row twice"):
        load([("44", "0.1"), ("44", "0.2")], T0)


def test_snapshot_older_than_history_is_refused(load):
    load([("44", "0.1")], T0 + DAY)
    with pytest.raises(SnapshotLoadError, match="time order"):
        load([("44", "0.2")], T0)


# -- effective dates (scheduled changes) ----------------------------------------------------


def test_scheduled_change_becomes_current_by_the_clock(con, load, rates):
    now = datetime.now(UTC)
    fetched = now - 10 * DAY
    takes_effect = now - DAY  # in the future when fetched, in the past now
    later = now + 30 * DAY  # announced, not yet in force
    load(
        [
            ("44", "0.1", "UK", now - 100 * DAY),
            ("44", "0.2", "UK", takes_effect),
            ("44", "0.3", "UK", later),
        ],
        fetched,
    )

    assert rates("44") == [
        ("44", D("0.1"), fetched, takes_effect, None),
        ("44", D("0.2"), takes_effect, later, None),
        ("44", D("0.3"), later, None, None),
    ]
    current = con.execute("SELECT price FROM voice_rate_current WHERE prefix = '44'").fetchall()
    assert current == [(D("0.2"),)]  # no second download needed
    assert _price_at(con, "44", later - timedelta(seconds=1)) == D("0.2")
    assert _price_at(con, "44", later) == D("0.3")
    assert _price_at(con, "44", fetched - timedelta(seconds=1)) is None  # before first fetch


def test_as_of_reads_on_both_sides_of_an_effective_date(con, load):
    effective = T0 + 5 * DAY
    load([("44", "0.1", "UK", T0 - 30 * DAY), ("44", "0.15", "UK", effective)], T0)

    assert _price_at(con, "44", effective - timedelta(microseconds=1)) == D("0.1")
    assert _price_at(con, "44", effective) == D("0.15")


def test_scheduled_change_is_announced_with_its_notice(con, load):
    load([("44", "0.1", "UK", T0 - 30 * DAY)], T0)
    t1, effective = T0 + DAY, T0 + 4 * DAY
    load([("44", "0.1", "UK", T0 - 30 * DAY), ("44", "0.12", "UK", effective)], t1)

    rows = con.execute(
        "SELECT change_type, old_price, new_price, changed_at, announced_at, notice_days, "
        "stated_effective_at FROM voice_rate_change"
    ).fetchall()
    assert rows == [("increase", D("0.1"), D("0.12"), effective, t1, D("3.00"), effective)]


def test_withdrawn_announcement(con, load, rates, changes):
    effective = T0 + 10 * DAY
    t1 = T0 + DAY
    load([("44", "0.1", "UK", T0 - 30 * DAY)], T0)
    load([("44", "0.1", "UK", T0 - 30 * DAY), ("44", "0.2", "UK", effective)], t1)

    result = load([("44", "0.1", "UK", T0 - 30 * DAY)], T0 + 2 * DAY)

    assert (result.opened, result.closed, result.withdrawn, result.unchanged) == (0, 0, 1, 1)
    assert rates("44") == [
        ("44", D("0.1"), T0, None, None),  # open-ended again
        ("44", D("0.2"), effective, effective, T0 + 2 * DAY),  # empty interval
    ]
    # the change it had announced keeps its row, flagged; the withdrawal is a row of its own
    assert changes() == [
        ("44", "increase", D("0.1"), D("0.2"), effective),
        ("44", "withdrawn", D("0.2"), None, effective),
    ]
    assert con.execute(
        "SELECT change_type, withdrawn_at FROM voice_rate_change ORDER BY change_type"
    ).fetchall() == [("increase", T0 + 2 * DAY), ("withdrawn", None)]
    assert _price_at(con, "44", effective + DAY) == D("0.1")


def test_changed_announcement_withdraws_and_replaces(load, rates, changes):
    effective = T0 + 10 * DAY
    load([("44", "0.1", "UK", T0 - DAY)], T0)
    load([("44", "0.1", "UK", T0 - DAY), ("44", "0.2", "UK", effective)], T0 + DAY)

    result = load([("44", "0.1", "UK", T0 - DAY), ("44", "0.18", "UK", effective)], T0 + 2 * DAY)

    assert (result.opened, result.withdrawn, result.unchanged) == (1, 1, 1)
    assert [(r[1], r[4] is not None) for r in rates("44")] == [
        (D("0.1"), False),
        (D("0.18"), False),
        (D("0.2"), True),  # withdrawn
    ]
    assert sorted((c[1], c[3] or 0) for c in changes()) == [
        ("increase", D("0.18")),
        ("increase", D("0.2")),  # announced, then re-priced: kept, withdrawn_at set
        ("withdrawn", 0),
    ]


def test_redated_in_force_rate_with_same_values_is_unchanged(load, rates):
    load([("44", "0.1", "UK", T0 - 30 * DAY)], T0)
    result = load([("44", "0.1", "UK", T0 - 3 * DAY)], T0 + DAY)
    assert (result.opened, result.unchanged) == (0, 1)
    assert len(rates("44")) == 1


def test_unannounced_change_starts_at_the_fetch_not_in_the_past(load, rates):
    """History before a fetch is never rewritten: the version starts when it was seen."""
    t1 = T0 + DAY
    load([("44", "0.1", "UK", T0 - 30 * DAY)], T0)
    load([("44", "0.3", "UK", T0 + timedelta(hours=2))], t1)

    assert rates("44") == [("44", D("0.1"), T0, t1, None), ("44", D("0.3"), t1, None, None)]


def test_absent_prefix_closes_and_withdraws_its_schedule(load, rates, changes):
    effective = T0 + 10 * DAY
    t1, t2 = T0 + DAY, T0 + 2 * DAY
    load([("44", "0.1", "UK", T0 - DAY), ("49", "0.5")], T0)
    load([("44", "0.1", "UK", T0 - DAY), ("44", "0.2", "UK", effective), ("49", "0.5")], t1)

    result = load([("49", "0.5")], t2)

    assert (result.closed, result.withdrawn) == (1, 1)
    assert rates("44") == [
        ("44", D("0.1"), T0, t2, None),
        ("44", D("0.2"), effective, effective, t2),
    ]
    assert [(c[0], c[1]) for c in changes()] == [
        ("44", "removed"),
        ("44", "increase"),  # announced at t1, withdrawn at t2: kept, withdrawn_at set
        ("44", "withdrawn"),
    ]


def test_new_prefix_announced_for_later(load, rates, changes):
    effective = T0 + 5 * DAY
    load([("49", "0.5")], T0)
    load([("49", "0.5"), ("44", "0.1", "UK", effective)], T0 + DAY)

    assert rates("44") == [("44", D("0.1"), effective, None, None)]
    assert changes() == [("44", "new", None, D("0.1"), effective)]


def test_latest_past_effective_row_is_in_force(load, rates):
    load(
        [
            ("44", "0.1", "UK", T0 - 30 * DAY),
            ("44", "0.11", "UK", T0 - 3 * DAY),
            ("44", "0.12", "UK", T0 + 3 * DAY),
        ],
        T0,
    )
    assert rates("44") == [
        ("44", D("0.11"), T0, T0 + 3 * DAY, None),
        ("44", D("0.12"), T0 + 3 * DAY, None, None),
    ]


def test_same_prefix_and_date_twice_is_refused(load):
    with pytest.raises(SnapshotLoadError, match="same row twice"):
        load([("44", "0.1", "UK", T0), ("44", "0.2", "UK", T0)], T0)


def test_intervals_never_overlap_over_random_schedules(con, load):
    """Random decks with past and future dates, in time order: each prefix's live versions
    are contiguous-or-gapped, never overlapping, and at most one is in force at any fetch."""
    import random

    rng = random.Random(11)
    prefixes = [str(40 + i) for i in range(12)]
    for day in range(25):
        fetched = T0 + day * DAY
        rows = []
        for p in prefixes:
            if rng.random() < 0.15:
                continue  # absent today
            rows.append((p, str(rng.choice(["0.1", "0.2", "0.3"])), "X", fetched - DAY))
            for ahead in rng.sample([2, 4, 7], k=rng.randint(0, 2)):
                rows.append(
                    (p, str(rng.choice(["0.1", "0.2", "0.4"])), "X", T0 + (day + ahead) * DAY)
                )
        load(rows, fetched)

    overlaps = con.execute(
        """SELECT count(*) FROM (
               SELECT valid_to, lead(valid_from) OVER (PARTITION BY prefix ORDER BY valid_from)
                      AS next_from
               FROM voice_rate WHERE withdrawn_at IS NULL)
           WHERE next_from < coalesce(valid_to, 'infinity'::TIMESTAMPTZ)"""
    ).fetchall()
    assert overlaps == [(0,)]
    empty_live = con.execute(
        "SELECT count(*) FROM voice_rate WHERE withdrawn_at IS NULL AND valid_to <= valid_from"
    ).fetchall()
    assert empty_live == [(0,)]


def _price_at(con, prefix: str, at: datetime) -> Decimal | None:
    rows = con.execute(
        "SELECT price FROM voice_rate_at(?::TIMESTAMPTZ) WHERE tech_prefix = 'current' "
        "AND prefix = ?",
        [at, prefix],
    ).fetchall()
    assert len(rows) <= 1
    return rows[0][0] if rows else None


def test_schedule_announced_in_the_baseline_is_not_a_change(load, changes):
    effective = T0 + 5 * DAY
    load([("44", "0.1", "UK", T0 - DAY), ("44", "0.2", "UK", effective)], T0)
    assert changes() == []
    load([("44", "0.1", "UK", T0 - DAY)], T0 + DAY)  # withdrawn: nothing was announced
    assert changes() == []
