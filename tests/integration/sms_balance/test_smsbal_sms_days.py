"""SMS rates over simulated days: history, names from mcc_mnc, changes with exact percentages."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest
from support.sms_balance import at, sms_body

from pipeline.analytics.diff import sms_changes
from pipeline.ingest.errors import NoValidRowsError, TooManyRejectsError
from pipeline.stages import feed
from pipeline.stages.sms import SMS
from pipeline.warehouse.errors import SnapshotLoadError
from pipeline.warehouse.sms import MCC_MNC_CSV

CHANNEL = "acme:1"
OTHER = "acme:2"
UNKNOWN = (10, 210)  # the Postman example's MCC 10: no such country code


def known_pairs(count: int) -> list[tuple[int, int]]:
    with MCC_MNC_CSV.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["preferred"] == "true" and r["mcc"] >= "2"]
    return [(int(r["mcc_int"]), int(r["mnc_int"])) for r in rows[:count]]


def base_rates() -> dict[tuple[int, int], Decimal]:
    pairs = known_pairs(150) + [(262, 1), (310, 6)]
    rates = {pair: Decimal(i % 17 + 1) / 100 for i, pair in enumerate(pairs)}
    rates[(262, 1)] = Decimal("0.05")
    rates[(310, 6)] = Decimal("0.07")
    rates[(208, 1)] = Decimal("0.08")
    rates[UNKNOWN] = Decimal("0.05")
    return rates


def changes(pipeline, channel=CHANNEL) -> list[tuple]:
    return pipeline.query(
        "SELECT CAST(changed_at AT TIME ZONE 'UTC' AS DATE)::VARCHAR, mcc_int, mnc_int, change_type, "
        "old_rate, new_rate, rate_change, rate_change_pct, country, network "
        "FROM sms_rate_change WHERE channel = ? ORDER BY changed_at, mcc_int, mnc_int, change_type",
        [channel],
    )


@pytest.mark.slow  # 21 simulated days
def test_three_weeks_of_sms_lists(pipeline):
    rates = base_rates()
    days: dict[int, dict] = {}
    for day in range(1, 22):
        if day == 3:  # an increase, a decrease with a long fraction
            rates[(262, 1)] = Decimal("0.0535")
            rates[(310, 6)] = Decimal("0.0649")
        if day == 5:  # a tiny increase: 0.00005 % rounds half up to 0.0001
            rates[(208, 1)] = Decimal("0.08000004")
        if day == 8:  # one pair withdrawn, one new pair (unknown to the reference too)
            del rates[(262, 1)]
            rates[(999, 98)] = Decimal("0.5")
        days[day] = dict(rates)
        body = b"[]" if day == 12 else sms_body(rates)  # day 12: the channel lists nothing
        load = pipeline.fetch_sms(CHANNEL, body, at(day))
        assert not load.replayed
        if day in (2, 4, 6, 7) or day >= 14:
            assert (load.opened, load.closed) == (0, 0), day  # unchanged list: no new rows

    snapshots = pipeline.query(
        "SELECT count(*), sum(row_count), max(unknown_count) FROM sms_snapshot WHERE channel = ?",
        [CHANNEL],
    )
    assert snapshots == [(21, sum(len(r) for d, r in days.items() if d != 12), 2)]

    day_3, day_5, day_8, day_12, day_13 = (
        "2026-11-03",
        "2026-11-05",
        "2026-11-08",
        "2026-11-12",
        "2026-11-13",
    )
    found = changes(pipeline)
    assert found[:5] == [
        (
            day_3,
            262,
            1,
            "increase",
            Decimal("0.05"),
            Decimal("0.0535"),
            Decimal("0.0035"),
            Decimal("7.0000"),
            "Germany",
            "Telekom",
        ),
        (
            day_3,
            310,
            6,
            "decrease",
            Decimal("0.07"),
            Decimal("0.0649"),
            Decimal("-0.0051"),
            Decimal("-7.2857"),
            "United States of America",
            "Verizon",
        ),
        (
            day_5,
            208,
            1,
            "increase",
            Decimal("0.08"),
            Decimal("0.08000004"),
            Decimal("0.00000004"),
            Decimal("0.0001"),
            "France",
            "Orange",
        ),
        (day_8, 262, 1, "removed", Decimal("0.0535"), None, None, None, "Germany", "Telekom"),
        (day_8, 999, 98, "new", None, Decimal("0.5"), None, None, None, None),
    ]
    removed_12 = [c for c in found if c[0] == day_12]
    new_13 = [c for c in found if c[0] == day_13]
    assert {c[3] for c in removed_12} == {"removed"} and len(removed_12) == len(days[11])
    assert {c[3] for c in new_13} == {"new"} and len(new_13) == len(days[13])
    assert len(found) == 5 + len(days[11]) + len(days[13])

    # the baseline (day 1) yields no change rows
    assert pipeline.query(
        "SELECT count(*) FROM sms_rate_change WHERE snapshot_id = "
        "(SELECT min(snapshot_id) FROM sms_snapshot WHERE channel = ?)",
        [CHANNEL],
    ) == [(0,)]

    # unknown pairs are kept and flagged, never dropped
    unknown = pipeline.query(
        "SELECT mcc_int, mnc_int, rate, country, network, known FROM sms_rate "
        "WHERE channel = ? AND NOT known AND valid_to IS NULL ORDER BY mcc_int",
        [CHANNEL],
    )
    assert unknown == [
        (10, 210, Decimal("0.05"), None, None, False),
        (999, 98, Decimal("0.5"), None, None, False),
    ]
    current = pipeline.query(
        "SELECT mcc_int, mnc_int, rate FROM sms_rate_at(?) WHERE channel = ?", [at(21, 12), CHANNEL]
    )
    assert {(m, n): r for m, n, r in current} == days[21]
    as_of_day_4 = pipeline.query(
        "SELECT rate FROM sms_rate_at(?) WHERE channel = ? AND mcc_int = 262 AND mnc_int = 1",
        [at(4), CHANNEL],
    )
    assert as_of_day_4 == [(Decimal("0.0535"),)]


@pytest.mark.slow  # loads every day twice
def test_replay_is_a_no_op_and_channels_are_separate(pipeline):
    rates = {(262, 1): Decimal("0.05"), (262, 2): Decimal("0.06")}
    first = pipeline.land("sms", CHANNEL, sms_body(rates), at(1))
    loaded = pipeline.load_sms(first)
    again = pipeline.load_sms(first)
    assert again.replayed and again.snapshot_id == loaded.snapshot_id
    assert (again.row_count, again.opened) == (2, 2)

    pipeline.fetch_sms(OTHER, sms_body({(262, 1): Decimal("0.09")}), at(1))
    rates[(262, 2)] = Decimal("0.065")
    pipeline.fetch_sms(CHANNEL, sms_body(rates), at(2))
    pipeline.fetch_sms(OTHER, sms_body({(262, 1): Decimal("0.09")}), at(2))
    assert pipeline.query("SELECT count(*) FROM sms_snapshot") == [(4,)]
    assert [c[1:4] for c in changes(pipeline)] == [(262, 2, "increase")]
    assert changes(pipeline, OTHER) == []
    assert pipeline.query(
        "SELECT channel, rate FROM sms_rate_current WHERE mcc = '262' AND mnc = '01' ORDER BY channel"
    ) == [(CHANNEL, Decimal("0.05")), (OTHER, Decimal("0.09"))]

    # an older file after a newer one is refused, and nothing changes
    with pytest.raises(SnapshotLoadError, match="older than a snapshot already loaded"):
        pipeline.fetch_sms(CHANNEL, sms_body({(262, 1): Decimal("1")}), at(1, 12))
    assert pipeline.query("SELECT count(*) FROM sms_snapshot") == [(4,)]


MOSTLY_BAD = (  # 3 of 4 rows refused
    b'[{"rate": 0.05, "mcc": 262, "mnc": 1}, {"rate": 0.02, "mcc": 262, "mnc": 2},'
    b' {"rate": 0.03, "mcc": 262, "mnc": 2}, {"rate": -1, "mcc": 262, "mnc": 3}]'
)


def test_rejects_are_recorded_with_the_snapshot(make_pipeline):
    pipeline = make_pipeline(sms={"max_reject_fraction": 0.75})
    load = pipeline.fetch_sms(CHANNEL, MOSTLY_BAD, at(1))
    assert (load.row_count, load.reject_count) == (1, 3)
    rejects = pipeline.query(
        "SELECT kind, source, snapshot_id, row_number, reason FROM ingest_reject ORDER BY row_number"
    )
    dup = "conflicting duplicate: mcc 262 mnc 2 has rates 0.02, 0.03 (rows 2, 3)"
    assert rejects == [
        ("sms", CHANNEL, load.snapshot_id, 2, dup),
        ("sms", CHANNEL, load.snapshot_id, 3, dup),
        ("sms", CHANNEL, load.snapshot_id, 4, "rate: negative '-1'"),
    ]
    assert pipeline.query("SELECT reject_count FROM sms_snapshot") == [(3,)]


def test_an_sms_list_is_refused_by_its_own_reject_limit_not_the_voice_one(make_pipeline):
    strict_sms = make_pipeline(voice={"max_reject_fraction": 1}, sms={"max_reject_fraction": 0.5})
    with pytest.raises(TooManyRejectsError, match=r"3 of 4 rows rejected \(75.00%, limit 50.00%\)"):
        strict_sms.fetch_sms(CHANNEL, MOSTLY_BAD, at(1))
    assert not strict_sms.warehouse.published_path.exists()  # refused before any load

    lenient_sms = make_pipeline(voice={"max_reject_fraction": 0}, sms={"max_reject_fraction": 0.8})
    assert lenient_sms.fetch_sms(CHANNEL, MOSTLY_BAD, at(1)).reject_count == 3


def test_an_older_list_after_a_newer_one_that_changed_nothing_is_refused(pipeline):
    rates = {(262, 1): Decimal("0.05")}
    pipeline.fetch_sms(CHANNEL, sms_body(rates), at(1))
    pipeline.fetch_sms(CHANNEL, sms_body(rates), at(3))  # unchanged: no trace in sms_rate
    with pytest.raises(SnapshotLoadError, match="older than a snapshot already loaded"):
        pipeline.fetch_sms(CHANNEL, sms_body({(262, 1): Decimal("0.07")}), at(2))
    assert pipeline.query("SELECT count(*), max(rate) FROM sms_rate") == [(1, Decimal("0.05"))]


def test_an_empty_first_list_is_not_the_baseline(pipeline):
    pipeline.fetch_sms(CHANNEL, b"[]", at(1))
    pipeline.fetch_sms(CHANNEL, sms_body({(262, 1): Decimal("0.05")}), at(2))
    pipeline.fetch_sms(CHANNEL, sms_body({(262, 1): Decimal("0.04")}), at(3))
    assert [c[1:4] for c in changes(pipeline)] == [(262, 1, "decrease")]


def test_a_list_of_only_bad_rows_never_reaches_the_warehouse(pipeline):
    pipeline.fetch_sms(CHANNEL, sms_body({(262, 1): Decimal("0.05")}), at(1))
    with pytest.raises(NoValidRowsError):
        pipeline.fetch_sms(CHANNEL, b'[{"rate": -1, "mcc": 262, "mnc": 1}]', at(2))
    assert pipeline.query("SELECT count(*) FROM sms_rate_current") == [(1,)]


def test_a_shrinking_list_is_judged_by_sms_max_row_drop_fraction(make_pipeline):
    four = {(262, mnc): Decimal("0.05") for mnc in (1, 2, 3, 7)}
    strict = make_pipeline(sms={"max_row_drop_fraction": 0.5})
    strict.fetch_sms(CHANNEL, sms_body(four), at(1))
    shrunk = strict.land("sms", CHANNEL, sms_body({(262, 1): Decimal("0.05")}), at(2))
    rows = feed.normalise(strict.settings, SMS, shrunk).rows()

    def collapse_check(settings) -> tuple[bool, str]:
        outcomes = {o.name: o for o in feed.check(settings, SMS, CHANNEL, rows)}
        assert set(outcomes) == {
            "no_duplicate_prefix",
            "prices_not_negative",
            "row_count_not_collapsed",
        }
        collapsed = outcomes["row_count_not_collapsed"]
        return collapsed.passed, collapsed.description

    assert collapse_check(strict.settings) == (
        False,
        "1 rows against 4 last time (+75.0% drop; limit 50%)",
    )
    defaults = make_pipeline().settings
    assert collapse_check(defaults) == collapse_check(strict.settings)  # the default limit: 50%
    no_limit = strict.settings.with_overrides(sms={"max_row_drop_fraction": 1.0})
    assert collapse_check(no_limit)[0] is True  # a channel wound down, on the user's word


def test_an_empty_list_after_a_full_one_is_refused_by_default(make_pipeline):
    pipeline = make_pipeline()
    pipeline.fetch_sms(CHANNEL, sms_body({(262, 1): Decimal("0.05")}), at(1))
    empty = pipeline.land("sms", CHANNEL, b"[]", at(2))
    rows = feed.normalise(pipeline.settings, SMS, empty).rows()
    outcomes = {o.name: o for o in feed.check(pipeline.settings, SMS, CHANNEL, rows)}
    assert (
        outcomes["row_count_not_collapsed"].passed,
        outcomes["row_count_not_collapsed"].description,
    ) == (
        False,
        "0 rows against 1 last time (+100.0% drop; limit 50%)",
    )


def test_an_unknown_network_keeps_every_digit_of_its_mnc(pipeline):
    # DuckDB's lpad cuts a longer string (lpad('210', 2, '0') = '21'): 009-210 read 009-21
    pairs = {(9, 210): Decimal("0.05"), (9, 21): Decimal("0.06"), (9, 5): Decimal("0.07")}
    pipeline.fetch_sms(CHANNEL, sms_body({**pairs, UNKNOWN: Decimal("0.08")}), at(1))
    pairs[(9, 210)] = Decimal("0.055")
    pipeline.fetch_sms(CHANNEL, sms_body({**pairs, UNKNOWN: Decimal("0.08")}), at(2))

    assert pipeline.query(
        "SELECT mcc, mnc, mcc_int, mnc_int FROM sms_rate_current WHERE NOT known "
        "ORDER BY mcc_int, mnc_int"
    ) == [
        ("009", "05", 9, 5),
        ("009", "21", 9, 21),
        ("009", "210", 9, 210),
        ("010", "210", 10, 210),
    ]
    assert pipeline.query("SELECT mcc_int FROM sms_rate_current WHERE mnc = '210' ORDER BY 1") == [
        (9,),
        (10,),
    ]
    assert pipeline.query("SELECT mcc, mnc, change_type FROM sms_rate_change") == [
        ("009", "210", "increase")
    ]
    with pipeline.warehouse.reader() as con:
        assert sms_changes(con)["network_code"].to_list() == ["009-210"]
