"""A corrected CDR: a call id already stored for a call within a day (or earlier in the same
file, on the same day) with other values is a conflict (docs/cdr.md#corrected-calls): the row
is refused, kept in ingest_reject with its row number and a reason naming what differs, and
counted apart from the repeats (cdr_file.conflict_count); the stored call, and its cost, stay
as they were. A call named by its record (no switch id) never conflicts on what depends on the
settings it is read with (tests/integration/cdr/test_cdr_record_keys.py: an Asterisk Dial
attempt re-exported with other seconds does)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from support.cdr import DAY, HISTORY, asterisk_line, cdr_settings, insert_history, query
from support.cdr import write_master as write_calls
from support.migrations import apply_schema_before

from pipeline.stages.cdr import cost_days, import_file
from pipeline.warehouse.migrate import apply_migrations

LONDON = "442079460001"
NINE = DAY + timedelta(hours=9)
HEADER = "id,number,seconds,started_at,route\n"
GENERIC_CALL = "x1,442079460001,60,2026-12-01 09:00:00,\n"


def reasons(settings, file_id: int) -> list[tuple[int, str]]:
    sql = "SELECT row_number, reason FROM ingest_reject WHERE snapshot_id = ? ORDER BY 1"
    return query(settings, sql, [file_id])


def test_a_file_repeating_an_id_with_other_values_keeps_its_first_row(settings, tmp_path):
    path = write_calls(
        tmp_path / "m.csv",
        [
            asterisk_line("u1", LONDON, NINE, 60),
            asterisk_line("u1", LONDON, NINE, 60),  # a true repeat
            asterisk_line("u1", LONDON, NINE + timedelta(hours=1), 99),  # the same day
        ],
    )
    added = import_file(settings, path)
    assert (added.calls, added.duplicates, added.conflicts) == (1, 1, 1)
    assert reasons(settings, added.file_id) == [
        (
            3,
            "call u1 is also at row 1 of this file with start 2026-12-01 09:00:00 UTC, "
            "duration 63 s, 60 billed seconds; this row says start 2026-12-01 10:00:00 UTC, "
            "duration 102 s, 99 billed seconds: row 1 stands",
        )
    ]
    assert query(settings, "SELECT call_id, billsec FROM cdr_call") == [("u1", 60)]


@pytest.fixture
def generic(tmp_path):
    """A generic installation whose files carry the switch's call id and a route column."""
    settings = cdr_settings(
        tmp_path / "data",
        format="generic",
        columns={"call_id": "id", "tech_prefix": "route"},
    )
    insert_history(settings, HISTORY)
    return settings


def generic_file(path: Path, *rows: str) -> Path:
    path.write_text(HEADER + "".join(rows))
    return path


@pytest.mark.parametrize(
    ("row", "stored", "says"),
    [
        ("x1,442079460001,61,2026-12-01 09:00:00,\n", "60 billed seconds", "61 billed seconds"),
        ("x1,442079460002,60,2026-12-01 09:00:00,\n", "number 442079460001", "number 442079460002"),
        (
            "x1,442079460001,60,2026-12-01 09:00:30,\n",
            "start 2026-12-01 09:00:00 UTC",
            "start 2026-12-01 09:00:30 UTC",
        ),
        (
            "x1,442079460001,60,2026-12-01 09:00:00,021001\n",
            "tech prefix current",
            "tech prefix 021001",
        ),
    ],
)
def test_each_corrected_field_is_named(generic, tmp_path, row, stored, says):
    import_file(generic, generic_file(tmp_path / "first.csv", GENERIC_CALL))
    cost_days(generic)
    costs = "SELECT call_id, tech_prefix, number, billsec, cost FROM cdr_cost"
    before = query(generic, costs)
    corrected = import_file(generic, generic_file(tmp_path / "corrected.csv", row))
    assert (corrected.calls, corrected.duplicates, corrected.conflicts) == (0, 0, 1)
    assert reasons(generic, corrected.file_id) == [
        (
            2,
            f"call x1 is already stored with {stored} (from first.csv row 2); this file says "
            f"{says}: the stored call stands",
        )
    ]
    assert query(generic, costs) == before
    assert cost_days(generic) == []  # nothing new to cost: the stored call stands


def test_a_start_moved_by_a_changed_timezone_is_a_conflict_not_a_silent_repeat(tmp_path):
    """The day either side still finds the same call (it is not added twice), but the file
    says another start than the stored one: the user is told, the stored call stands."""
    late = DAY + timedelta(hours=23, minutes=30)
    utc = cdr_settings(tmp_path / "data")
    insert_history(utc, HISTORY)
    import_file(utc, write_calls(tmp_path / "a.csv", [asterisk_line("u1", LONDON, late, 60)]))
    kolkata = cdr_settings(tmp_path / "data", timezone="Asia/Kolkata")
    lines = [asterisk_line("u1", LONDON, late, 60), asterisk_line("u2", LONDON, late, 61)]
    moved = import_file(kolkata, write_calls(tmp_path / "b.csv", lines))
    assert (moved.calls, moved.duplicates, moved.conflicts) == (1, 0, 1)
    [(row, reason)] = reasons(utc, moved.file_id)
    assert (row, reason) == (
        1,
        "call u1 is already stored with start 2026-12-01 23:30:00 UTC (from a.csv row 1); "
        "this file says start 2026-12-01 18:00:00 UTC: the stored call stands",
    )


def test_calls_named_by_their_record_never_conflict_on_the_settings(tmp_path):
    """Without a switch id the record's text is the id (start as written, channels): a grown
    file read with another [cdr] timezone repeats its calls, it does not conflict."""
    lines = [asterisk_line("", LONDON, NINE, 60), asterisk_line("", LONDON, NINE, 61)]
    utc = cdr_settings(tmp_path / "data")
    insert_history(utc, HISTORY)
    import_file(utc, write_calls(tmp_path / "Master.csv", lines))
    kolkata = cdr_settings(tmp_path / "data", timezone="Asia/Kolkata")
    grown = lines + [asterisk_line("", LONDON, NINE, 62)]
    again = import_file(kolkata, write_calls(tmp_path / "Master.csv", grown))
    assert (again.calls, again.duplicates, again.conflicts) == (1, 2, 0)
    assert query(utc, "SELECT count(*) FROM ingest_reject") == [(0,)]


def test_an_older_warehouse_s_files_gain_a_conflict_count_of_0(tmp_path):
    """Files imported before counted their corrected calls with the repeats: 0 conflicts."""
    new = "104_cdr_call_conflicts.sql"
    with duckdb.connect(str(tmp_path / "old.duckdb")) as con:
        apply_schema_before(con, new)
        con.execute(
            "INSERT INTO cdr_file VALUES (1, 'abc', 'Master.csv', 'raw/cdr/a.csv', 'asterisk', "
            "current_timestamp, 4, 2, 2, 1, 2, NULL, NULL)"
        )
        assert new in apply_migrations(con)
        counts = "SELECT row_count, duplicate_count, reject_count, conflict_count FROM cdr_file"
        assert con.execute(counts).fetchall() == [(4, 1, 2, 0)]
        [(comment,)] = con.execute(
            "SELECT comment FROM duckdb_columns() "
            "WHERE table_name = 'cdr_file' AND column_name = 'conflict_count'"
        ).fetchall()
        assert "docs/cdr.md#corrected-calls" in comment
        assert apply_migrations(con) == []  # once
