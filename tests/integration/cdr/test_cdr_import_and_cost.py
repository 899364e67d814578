"""Issue 16.1-2 against a real warehouse file: CDR files imported once (landing zone, sha256,
rejects with row numbers, each call once), costed per UTC day by the one engine exactly as a
brute-force Python reference prices them, and never re-costed unless asked (then logged)."""

from __future__ import annotations

import stat
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from support.bodies import ingest_result, voice_rate_frame
from support.cdr import (
    DAY,
    HISTORY,
    NOON,
    asterisk_line,
    cdr_settings,
    generated_calls,
    insert_history,
    query,
    reference_costs,
    reference_versions,
    write_master,
)

from pipeline.stages.cdr import cost_days, import_file
from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.voice import load_voice_snapshot

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "cdr"
D1 = date(2026, 12, 1)


def test_import_keeps_the_file_and_its_calls_once(settings):
    first = import_file(settings, FIXTURE / "Master.csv")
    assert (first.calls, first.rejects, first.duplicates, first.days) == (4, 2, 0, ("2026-12-01",))
    landed = settings.data_dir / first.raw_path
    assert landed.read_bytes() == (FIXTURE / "Master.csv").read_bytes()
    assert not landed.stat().st_mode & stat.S_IWUSR  # immutable
    [file_row] = query(
        settings,
        "SELECT original_name, source_format, row_count, billable_count, unbillable_count, "
        "reject_count FROM cdr_file",
    )
    assert file_row == ("Master.csv", "asterisk", 4, 2, 2, 2)
    rejects = query(
        settings,
        "SELECT kind, snapshot_id, row_number, reason FROM ingest_reject ORDER BY row_number",
    )
    assert rejects == [
        ("cdr", first.file_id, 4, "number 's': letters are not allowed"),
        ("cdr", first.file_id, 5, "billsec 40 exceeds duration 38"),
    ]

    again = import_file(settings, FIXTURE / "Master.csv")
    assert again.replayed and again.file_id == first.file_id
    assert query(settings, "SELECT count(*) FROM cdr_file") == [(1,)]
    assert query(settings, "SELECT count(*) FROM cdr_call") == [(4,)]
    assert query(settings, "SELECT count(*) FROM ingest_reject") == [(2,)]
    assert len(list((settings.data_dir / "raw" / "cdr").rglob("*.csv"))) == 1


def test_an_overlapping_export_counts_each_call_once(settings, tmp_path):
    start = DAY + timedelta(hours=9)
    one = write_master(tmp_path / "a.csv", [asterisk_line("u1", "442079460001", start, 60)])
    both = write_master(
        tmp_path / "b.csv",
        [
            asterisk_line("u1", "442079460001", start, 60),
            asterisk_line("u2", "442079460002", start, 61),
        ],
    )
    import_file(settings, one)
    overlap = import_file(settings, both)
    assert (overlap.calls, overlap.duplicates) == (1, 1)
    assert query(settings, "SELECT call_id FROM cdr_call ORDER BY 1") == [("u1",), ("u2",)]


def test_costing_equals_the_brute_force_reference(settings, tmp_path):
    calls = generated_calls(400)
    lines = [asterisk_line(c, d, s, b, answered) for c, d, s, b, answered in calls]
    import_file(settings, write_master(tmp_path / "Master.csv", lines))
    [costing] = cost_days(settings)
    expected = reference_costs(calls)
    got = {
        row[0]: row[1:]
        for row in query(
            settings,
            "SELECT call_id, tech_prefix, matched_prefix, price, billed_seconds, cost "
            "FROM cdr_cost",
        )
    }
    assert got == expected
    # the version each call is recorded as rated on: the deck row the engine priced it on
    versions = query(
        settings,
        "SELECT call_id, initial_seconds, increment_seconds, rate_valid_from FROM cdr_cost",
    )
    assert {row[0]: row[1:] for row in versions} == reference_versions(calls)
    assert costing.day == D1 and costing.calls == len(expected)
    assert costing.new_total == sum((e[4] for e in expected.values() if e[4]), Decimal(0))
    assert costing.unmatched == sum(1 for e in expected.values() if e[1] is None)
    assert costing.unmatched > 0 and costing.calls > 300  # the sample covers both cases
    # one rule: the SQL macro an analyst would use prices every call the same
    differ = query(
        settings,
        "SELECT call_id FROM cdr_cost WHERE cost IS DISTINCT FROM "
        "call_cost(number, billsec, rated_on, started_at)",
    )
    assert differ == []


def test_the_used_version_is_recorded(settings, tmp_path):
    before, after = NOON - timedelta(minutes=1), NOON + timedelta(minutes=1)
    path = write_master(
        tmp_path / "m.csv",
        [
            asterisk_line("b", "44207000001", before, 61),
            asterisk_line("a", "44207000001", after, 61),
        ],
    )
    import_file(settings, path)
    cost_days(settings)
    rows = query(
        settings,
        "SELECT call_id, price, initial_seconds, increment_seconds, billed_seconds, cost, "
        "currency, rate_valid_from = ? FROM cdr_cost ORDER BY call_id",
        [NOON],
    )
    assert [r[:6] for r in rows] == [
        ("a", Decimal("0.25"), 60, 60, 120, Decimal("0.5")),
        ("b", Decimal("0.2"), 60, 60, 120, Decimal("0.4")),
    ]
    assert [(r[6], r[7]) for r in rows] == [("USD", True), ("USD", False)]


def load_deck(settings, fetched_at, rows) -> None:
    """A downloaded deck through the real voice loader (rows: prefix, dest, price, a, b,
    effective_at)."""
    with Warehouse(settings).writer() as con:
        load_voice_snapshot(
            con,
            tech_prefix="current",
            fetched_at=fetched_at,
            content_sha256=f"{fetched_at:%Y%m%d%H}".ljust(64, "0"),
            raw_path=f"raw/voice/current/{fetched_at:%Y%m%d}.csv",
            result=ingest_result(voice_rate_frame(rows)),
        )


def test_a_later_deck_never_reprices_a_costed_call(tmp_path):
    """The voice history never rewrites the past (a change starts at its fetch, even when the
    deck dates it earlier): a later deck leaves every costed call as it was, recost or not."""
    settings = cdr_settings(tmp_path / "data")
    load_deck(settings, DAY - timedelta(days=1), [("353", "Ireland", "0.05", 1, 1, None)])
    path = write_master(
        tmp_path / "m.csv", [asterisk_line("c1", "35312345", DAY + timedelta(hours=8), 60)]
    )
    import_file(settings, path)
    [first] = cost_days(settings)
    assert (first.old_total, first.new_total) == (None, Decimal("0.05"))

    backdated = DAY - timedelta(days=10)  # the carrier dates the new prefix before the call
    load_deck(
        settings,
        DAY + timedelta(days=1),
        [
            ("353", "Ireland", "0.05", 1, 1, None),
            ("35312", "Ireland Dublin", "0.07", 1, 1, backdated),
        ],
    )
    assert cost_days(settings) == []  # nothing new to cost
    [recost] = cost_days(settings, [D1], recost=True, why="new deck")
    assert (recost.old_total, recost.new_total) == (Decimal("0.05"), Decimal("0.05"))
    assert query(settings, "SELECT matched_prefix FROM cdr_cost") == [("353",)]


def test_a_repaired_price_waits_for_an_explicit_recost(settings, tmp_path):
    path = write_master(
        tmp_path / "m.csv", [asterisk_line("c1", "35312345", DAY + timedelta(hours=8), 60)]
    )
    import_file(settings, path)
    [first] = cost_days(settings)
    assert (first.old_total, first.new_total) == (None, Decimal("0.05"))

    repair_price(settings, "353", Decimal("0.07"))  # the history corrected by hand
    assert cost_days(settings) == []  # nothing new to cost: the costed day stays as it was
    [again] = cost_days(settings, [D1])
    assert (again.costing_run, again.calls) == (None, 0)
    assert query(settings, "SELECT cost FROM cdr_cost") == [(Decimal("0.05"),)]

    # a call that arrives later for the costed day is costed; the others are untouched
    later = write_master(
        tmp_path / "late.csv", [asterisk_line("c2", "35312345", DAY + timedelta(hours=9), 60)]
    )
    import_file(settings, later)
    [added] = cost_days(settings)
    assert (added.calls, added.recost, added.old_total) == (1, False, Decimal("0.05"))
    assert query(settings, "SELECT call_id, cost FROM cdr_cost ORDER BY 1") == [
        ("c1", Decimal("0.05")),
        ("c2", Decimal("0.07")),
    ]

    [recost] = cost_days(settings, [D1], recost=True, who="analyst", why="price repaired")
    assert (recost.calls, recost.old_total, recost.new_total) == (
        2,
        Decimal("0.12"),
        Decimal("0.14"),
    )
    log = query(
        settings,
        "SELECT recost, who, why, calls, old_total, new_total FROM cdr_costing_log "
        "ORDER BY costing_run",
    )
    assert log[-1] == (True, "analyst", "price repaired", 2, Decimal("0.12"), Decimal("0.14"))
    assert [row[0] for row in log] == [False, False, True]


def repair_price(settings, prefix: str, price: Decimal) -> None:
    with Warehouse(settings).writer() as con:
        con.execute(
            "UPDATE voice_rate SET price = ? WHERE tech_prefix = 'current' AND prefix = ?",
            [price, prefix],
        )


def test_a_route_without_a_deck_leaves_its_calls_unmatched_not_lost(tmp_path):
    settings = cdr_settings(tmp_path / "data")
    insert_history(settings, [h for h in HISTORY if h[0] == "current"])
    path = write_master(
        tmp_path / "m.csv",
        [
            asterisk_line("x", "02100135312345", DAY, 60),
            asterisk_line("y", "35312345", DAY, 60),
        ],
    )
    import_file(settings, path)
    [costing] = cost_days(settings)
    assert (costing.calls, costing.unmatched) == (2, 1)
    assert query(settings, "SELECT call_id, cost FROM cdr_cost ORDER BY 1") == [
        ("x", None),
        ("y", Decimal("0.05")),
    ]
