"""A call is its call id on its UTC day (schema/101_call_tables_no_key.sql), and counts once:
an id already stored for a call within a day of an imported one is the same call (an
overlapping export, a [cdr] timezone changed in between), looked for on the file's days only,
so an import takes as long after a year of calls as on the first day
(docs/benchmarks.md#importing-cdrs-over-a-long-history); an id back days later is another call
(a switch that reuses its ids), costed and reconciled on its own day. Switch CDRs and carrier
exports follow the same rule (``CallFiles``)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import duckdb
from support.cdr import DAY, asterisk_line, query
from support.cdr import write_master as write_calls
from support.migrations import apply_schema_before, assert_rebuilt
from support.reconcile import carrier_export, carrier_market, market_settings

from pipeline.stages.cdr import cost_days, import_file
from pipeline.stages.reconcile import import_carrier_file
from pipeline.warehouse.migrate import apply_migrations

LONDON = "442079460001"


STORED = {  # feed: its calls (call_id, UTC day) and its file count
    "cdr": (
        "SELECT call_id, strftime(call_day, '%Y-%m-%d') FROM cdr_call ORDER BY 1",
        "SELECT count(*) FROM cdr_file",
    ),
    "carrier": (
        "SELECT call_id, strftime(call_day, '%Y-%m-%d') FROM carrier_call ORDER BY 1",
        "SELECT count(*) FROM carrier_file",
    ),
}


def stored(settings, feed="cdr"):
    """(call_id, UTC day) of every stored call of ``feed``, and how many files it has."""
    calls, files = STORED[feed]
    return query(settings, calls), query(settings, files)[0][0]


def test_a_call_repeated_the_next_day_is_the_same_call(settings, tmp_path):
    # the same call, its UTC start moved over midnight (the [cdr] timezone was changed): not
    # added again, and refused as a conflict, as the start differs (test_cdr_conflicts.py)
    late = DAY + timedelta(hours=23, minutes=30)
    write_calls(tmp_path / "a.csv", [asterisk_line("u1", LONDON, late, 60)])
    write_calls(
        tmp_path / "b.csv",
        [
            asterisk_line("u1", LONDON, late + timedelta(hours=2), 60),
            asterisk_line("u2", LONDON, late + timedelta(hours=3), 61),
        ],
    )
    import_file(settings, tmp_path / "a.csv")
    overlap = import_file(settings, tmp_path / "b.csv")
    assert (overlap.calls, overlap.duplicates, overlap.conflicts) == (1, 0, 1)
    assert stored(settings) == ([("u1", "2026-12-01"), ("u2", "2026-12-02")], 2)


def test_a_call_id_back_days_later_is_another_call_costed_on_its_own_day(settings, tmp_path):
    start = DAY + timedelta(hours=9)
    write_calls(tmp_path / "a.csv", [asterisk_line("u1", LONDON, start, 60)])
    import_file(settings, tmp_path / "a.csv")
    reused = write_calls(
        tmp_path / "reused.csv",
        [
            asterisk_line("u2", LONDON, start + timedelta(days=2), 61),
            asterisk_line("u1", LONDON, start + timedelta(days=2, minutes=1), 62),
        ],
    )
    added = import_file(settings, reused)
    assert (added.calls, added.duplicates) == (2, 0)
    assert stored(settings) == (
        [("u1", "2026-12-01"), ("u1", "2026-12-03"), ("u2", "2026-12-03")],
        2,
    )
    cost_days(settings)
    costs = query(
        settings,
        "SELECT call_id, strftime(call_day, '%Y-%m-%d'), billsec FROM cdr_cost ORDER BY 2, 1",
    )
    assert costs == [("u1", "2026-12-01", 60), ("u1", "2026-12-03", 62), ("u2", "2026-12-03", 61)]


def test_a_file_repeating_an_id_keeps_its_first_row_of_the_day(settings, tmp_path):
    start = DAY + timedelta(hours=9)
    path = write_calls(
        tmp_path / "m.csv",
        [
            asterisk_line("u1", LONDON, start, 60),
            asterisk_line("u1", LONDON, start + timedelta(hours=1), 99),  # the same day
            asterisk_line("u1", LONDON, start + timedelta(days=1), 61),  # the next: another
        ],
    )
    added = import_file(settings, path)
    assert (added.calls, added.duplicates, added.conflicts) == (2, 0, 1)  # 99 s: a conflict
    calls = query(settings, "SELECT call_id, billsec FROM cdr_call ORDER BY call_day")
    assert calls == [("u1", 60), ("u1", 61)]


def london_call(call_id: str, start: str, seconds: int) -> str:
    """A carrier row: a call to LONDON billed at 0.3 a minute, 30/6 (HISTORY's 442079)."""
    cost = Decimal("0.3") * seconds / 60
    return (
        f"{call_id},{start},,{LONDON},London centre,442079,{seconds},{seconds},0.3,30/6,"
        f"{cost:.6f},USD\n"
    )


def uk_call(call_id: str, start: str) -> str:
    """A carrier row on tech prefix 021001: 60 s to the UK at 0.1 a minute."""
    return f"{call_id},{start},021001,4420794000,UK,44,60,60,0.1,60/60,0.100000,USD\n"


def test_reconciliation_pairs_each_call_of_a_reused_id_once(settings, tmp_path):
    """A call, ours or the carrier's, is its id on its day: each pairs once, exactly."""
    start = DAY + timedelta(hours=9)
    ours = write_calls(
        tmp_path / "ours.csv",
        [
            asterisk_line("u1", LONDON, start, 60),
            asterisk_line("u1", LONDON, start + timedelta(days=3), 90),
        ],
    )
    import_file(settings, ours)
    cost_days(settings)
    theirs = carrier_export(
        tmp_path / "theirs.csv",
        london_call("x1", "2026-12-01 09:00:00", 60),
        london_call("x1", "2026-12-04 09:00:00", 90),
    )
    import_carrier_file(settings, theirs)
    rows = query(
        settings,
        "SELECT strftime(call_day, '%Y-%m-%d'), class, our_call_id, their_call_id, our_seconds, "
        "their_seconds FROM reconcile_call ORDER BY call_day",
    )
    assert rows == [
        ("2026-12-01", "exact", "u1", "x1", 60, 60),
        ("2026-12-04", "exact", "u1", "x1", 90, 90),
    ]


def test_carrier_exports_follow_the_same_rule(tmp_path):
    settings = market_settings(tmp_path / "data", carrier_market())
    first = carrier_export(tmp_path / "first.csv", uk_call("a1", "2026-11-01 23:50:00"))
    overlap = carrier_export(
        tmp_path / "overlap.csv",
        uk_call("a1", "2026-11-01 23:50:00"),
        uk_call("a2", "2026-11-02 00:10:00"),
        uk_call("a2", "2026-11-02 00:10:00"),  # repeated in the export itself
    )
    import_carrier_file(settings, first)
    added = import_carrier_file(settings, overlap)
    assert (added.calls, added.duplicates) == (1, 2)
    assert stored(settings, "carrier") == ([("a1", "2026-11-01"), ("a2", "2026-11-02")], 2)

    later = carrier_export(
        tmp_path / "later.csv",
        # a day after the stored a1: the same call, billed again at another start, so a
        # conflict (docs/cdr.md#corrected-calls)
        uk_call("a1", "2026-11-02 23:00:00"),
        uk_call("a1", "2026-11-05 10:00:00"),  # days after: another call
    )
    again = import_carrier_file(settings, later)
    assert (again.calls, again.duplicates, again.conflicts) == (1, 0, 1)
    assert stored(settings, "carrier") == (
        [("a1", "2026-11-01"), ("a1", "2026-11-05"), ("a2", "2026-11-02")],
        3,
    )


def test_an_older_warehouse_keeps_its_calls_and_comments_without_the_keys(tmp_path):
    new = "101_call_tables_no_key.sql"
    with duckdb.connect(str(tmp_path / "old.duckdb")) as con:
        apply_schema_before(con, new)  # what an older ratedeck left
        at = DAY + timedelta(hours=9)
        con.execute(
            "INSERT INTO cdr_call VALUES ('u1', 1, 1, ?, ?, '4420', '4420', 'current', 61, 60, "
            "true, 'ANSWERED'), ('u2', 1, 2, ?, ?, '4420', '4420', 'current', 0, 0, false, NULL)",
            [at, at.date(), at, at.date()],
        )
        con.execute(
            "INSERT INTO carrier_call VALUES ('x1', 1, 2, ?, ?, 'current', '4420', 'UK', '44', "
            "60, 60, 0.1, 0.1, 'USD')",
            [at, at.date()],
        )
        before = _rows(con)
        assert _keys(con) == {"cdr_call": 2, "carrier_call": 1}

        assert new in apply_migrations(con)

        assert _rows(con) == before
        assert _keys(con) == {}
        for table in TABLES:
            assert_rebuilt(con, table, "its call_id on its call_day")
        assert apply_migrations(con) == []  # once


def test_an_older_warehouse_s_duplicate_counts_say_what_they_count(tmp_path):
    """090 and 095 said the count was of calls an earlier file brought; it also holds a call
    repeated on its day in the same file (test_a_file_repeating_an_id_keeps_its_first_row)."""
    new = "102_duplicate_count_comments.sql"
    sql = (
        "SELECT table_name, comment FROM duckdb_columns() "
        "WHERE column_name = 'duplicate_count' ORDER BY 1"
    )
    with duckdb.connect(str(tmp_path / "old.duckdb")) as con:
        apply_schema_before(con, new)
        assert [c for _, c in con.execute(sql).fetchall()] == [
            "Valid rows not added because an earlier export already brought their call id "
            "(counted once).",
            "Valid calls not added because an earlier file already brought their call_id "
            "(counted once).",
        ]
        assert new in apply_migrations(con)
        [(carrier_table, carrier), (cdr_table, cdr)] = con.execute(sql).fetchall()
    assert (carrier_table, cdr_table) == ("carrier_file", "cdr_file")
    assert "repeated on the same UTC day earlier in this file" in cdr
    assert "repeated on the same UTC day earlier in this export" in carrier
    for comment in (cdr, carrier):
        assert "or already stored for a call within a day of it" in comment
        assert "An id seen again days later is another call, and is added." in comment


TABLES = ("cdr_call", "carrier_call")


def _rows(con) -> list[list[tuple]]:
    return [
        con.execute("SELECT * FROM cdr_call ORDER BY call_id").fetchall(),
        con.execute("SELECT * FROM carrier_call ORDER BY call_id").fetchall(),
    ]


def _keys(con) -> dict[str, int]:
    """Primary keys and unique constraints of the call tables, counted per table."""
    rows = con.execute(
        "SELECT table_name, count(*) FROM duckdb_constraints() WHERE table_name IN "
        "('cdr_call', 'carrier_call') AND constraint_type IN ('PRIMARY KEY', 'UNIQUE') "
        "GROUP BY table_name"
    ).fetchall()
    return dict(rows)


def test_reconcile_calls_of_some_days_are_the_view_s_rows_of_those_days(settings, tmp_path):
    """reconcile_calls(first, last) reads only those days and one either side; its rows are
    reconcile_call's of those days, pairs across midnight and rivals for one call included."""
    midnight = DAY + timedelta(days=1)
    second = timedelta(seconds=1)
    ours = [
        asterisk_line("o1", LONDON, midnight - second, 60),  # pairs with x1, after midnight
        asterisk_line("o2", LONDON, midnight + 3 * second, 60),  # rivals o1 for x1: further
        asterisk_line("o3", LONDON, midnight + timedelta(hours=12), 90),  # x3 bills 91 s
        asterisk_line("o4", LONDON, midnight + timedelta(days=1) - second, 60),  # no x4
    ]
    import_file(settings, write_calls(tmp_path / "ours.csv", ours))
    cost_days(settings)
    theirs = carrier_export(
        tmp_path / "theirs.csv",
        london_call("x1", "2026-12-02 00:00:00", 60),
        london_call("x3", "2026-12-02 12:00:01", 91),
        london_call("x5", "2026-12-03 00:00:00", 60),  # we have none: missing ours, the day after
    )
    import_carrier_file(settings, theirs)
    view = query(settings, "SELECT * FROM reconcile_call ORDER BY ALL")
    across = [r for r in view if r[2:4] == ("o1", "x1")]
    assert across and across[0][0].isoformat() == "2026-12-01"  # the pair spans midnight
    d1, d2, d3 = (DAY + timedelta(days=k) for k in range(3))
    for first, last in [(d1, d1), (d2, d2), (d3, d3), (d1, d2), (d2, d3), (d1, d3)]:
        some = query(
            settings,
            "SELECT * FROM reconcile_calls(?::DATE, ?::DATE) ORDER BY ALL",
            [first.date(), last.date()],
        )
        assert some == [r for r in view if first.date() <= r[0] <= last.date()], (first, last)


def test_a_carrier_row_in_another_currency_than_the_accounts_is_a_reject(settings, tmp_path):
    """reconcile_call subtracts the carrier's money from our costs (report.currency, USD)."""
    export = carrier_export(
        tmp_path / "theirs.csv",
        london_call("x1", "2026-12-01 09:00:00", 60),
        london_call("x2", "2026-12-01 10:00:00", 60).replace(",USD", ",EUR"),
        london_call("x3", "2026-12-01 11:00:00", 90),
    )
    done = import_carrier_file(settings, export)
    assert (done.calls, done.rejects) == (2, 1)
    [(row, reason)] = done.rejects_preview
    assert (row, reason.split(":")[0]) == (3, "currency 'EUR'")
    assert "not the account's USD (report.currency)" in reason
    assert stored(settings, "carrier") == ([("x1", "2026-12-01"), ("x3", "2026-12-01")], 1)
