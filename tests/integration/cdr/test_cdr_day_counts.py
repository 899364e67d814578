"""cdr_day (schema/105_cdr_day.sql): per-day counts the import and the costing keep in their
own transactions, so that `cdr status`, the days left to cost and the email's profile window
read one row per day instead of every stored call, and answer exactly what the scans of every
call answered: after imports, costings, late calls, a recost and failed (rolled back) writes,
and on a warehouse an older ratedeck left."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

import duckdb
import pytest
from support.cdr import DAY, EPOCH, asterisk_line, cdr_settings, insert_history, write_master
from support.migrations import apply_schema_before

import pipeline.warehouse.cdr as warehouse_cdr
from pipeline.analytics.cdr import derived_traffic_profile
from pipeline.cli import main
from pipeline.settings import Settings
from pipeline.stages.cdr import cost_days, import_file
from pipeline.warehouse.cdr import uncosted_days
from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.history import execute_named
from pipeline.warehouse.migrate import DERIVED_FOLDERS, apply_migrations, read_sql, sql_files

NEW = "105_cdr_day.sql"
D1 = DAY.date()
D2, D3, D4 = (D1 + timedelta(days=k) for k in (1, 2, 3))
HOUR = timedelta(hours=1)
QUERIES = ("cdr_uncosted_days", "cdr_status", "cdr_profile_window")
# The same queries as they were before cdr_day: per-day counts of every stored call.
BEFORE = {
    "cdr_uncosted_days": """
        WITH calls AS (
            SELECT call_day, count(*) AS billable FROM cdr_call WHERE billable GROUP BY call_day
        ),
        costs AS (SELECT call_day, count(*) AS costed FROM cdr_cost GROUP BY call_day)
        SELECT call_day FROM calls LEFT JOIN costs USING (call_day)
        WHERE calls.billable > coalesce(costs.costed, 0) ORDER BY call_day""",
    "cdr_profile_window": """
        WITH bounds AS (
            SELECT max(call_day) AS last_day, min(call_day) AS first_day FROM cdr_cost
            WHERE call_day <= $today
        )
        SELECT CAST(last_day - ($days - 1) AS DATE) AS window_start, last_day,
               CAST(last_day - greatest(CAST(last_day - ($days - 1) AS DATE), first_day) + 1
                    AS BIGINT) AS covered_days,
               (SELECT count(*) FROM cdr_cost c
                WHERE c.call_day BETWEEN CAST(last_day - ($days - 1) AS DATE) AND last_day)
                   AS calls
        FROM bounds WHERE last_day IS NOT NULL""",
    "cdr_status": """
        WITH calls AS (
            SELECT call_day, count(*) AS calls, count(*) FILTER (WHERE billable) AS billable
            FROM cdr_call GROUP BY call_day
        ),
        costs AS (
            SELECT call_day, count(*) AS costed,
                   count(*) FILTER (WHERE cost IS NULL) AS unmatched, sum(cost) AS total_cost
            FROM cdr_cost GROUP BY call_day
        ),
        last_costing AS (
            SELECT call_day, arg_max(costed_at, costing_run) AS last_costed_at,
                   bool_or(recost) AS ever_recosted
            FROM cdr_costing_log GROUP BY call_day
        )
        SELECT strftime(c.call_day, '%Y-%m-%d') AS day, c.calls, c.billable,
               coalesce(k.costed, 0) AS costed, coalesce(k.unmatched, 0) AS unmatched,
               coalesce(k.total_cost, 0) AS total_cost,
               strftime(l.last_costed_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M UTC')
                   AS last_costed,
               coalesce(l.ever_recosted, false) AS recosted
        FROM calls c LEFT JOIN costs k USING (call_day) LEFT JOIN last_costing l USING (call_day)
        ORDER BY c.call_day""",
}
# the profile's window ends on the report's today at the latest (a clock running ahead)
WINDOWS = tuple({"days": days, "today": D4} for days in (30, 1, 2)) + ({"days": 2, "today": D1},)


def _results(con: duckdb.DuckDBPyConnection, sql_of) -> list:
    """Each query's rows and column types, the profile window for several window lengths."""
    found = []
    for name in QUERIES:
        for params in WINDOWS if name == "cdr_profile_window" else ({},):
            cursor = con.execute(sql_of(name), params)
            found.append((name, params, [d[1] for d in cursor.description], cursor.fetchall()))
    return found


def assert_same_as_every_call(settings: Settings) -> list:
    """The three queries answer what counting every stored call answers (rows and types), and
    cdr_day holds the counts of every day; returns the queries' results."""
    with Warehouse(settings).reader() as con:
        now = _results(con, lambda name: read_sql(f"queries/{name}.sql"))
        assert now == _results(con, BEFORE.__getitem__)
        counts = read_sql("queries/cdr_day_counts.sql")
        counted = con.execute(counts, warehouse_cdr.EVERY_DAY).fetchall()
        assert counted
        assert con.execute("SELECT * FROM cdr_day ORDER BY call_day").fetchall() == counted
    return now


def _status(settings: Settings) -> dict[str, tuple]:
    with Warehouse(settings).reader() as con:
        rows = con.execute(read_sql("queries/cdr_status.sql")).fetchall()
    return {day: (*counts, str(total)) for day, *counts, total, _, _ in rows}


def _import(settings: Settings, path, *lines: str) -> None:
    import_file(settings, write_master(path, list(lines)))


def _broken(monkeypatch, query: str) -> None:
    """``query`` fails when run: a write that breaks after cdr_day was recounted."""
    real = warehouse_cdr.read_sql

    def read(name: str) -> str:
        return "SELECT no_such_column" if name.endswith(query) else real(name)

    monkeypatch.setattr(warehouse_cdr, "read_sql", read)


def test_the_counts_equal_every_call_after_imports_costings_recosts_and_failures(
    settings, tmp_path, monkeypatch
):
    _import(
        settings,
        tmp_path / "a.csv",
        *(asterisk_line(f"a{i}", "35312345", DAY + i * HOUR, 60) for i in range(3)),
        asterisk_line("u1", "1212555", DAY + 4 * HOUR, 30),  # no prefix matches: unmatched
        asterisk_line("a9", "4420794", DAY + 30 * HOUR, 61),  # day 2
        asterisk_line("n1", "35312345", DAY + 50 * HOUR, 0, answered=False),  # day 3: no bill
    )
    assert assert_same_as_every_call(settings)[0][3] == [(D1,), (D2,)]  # left to cost
    cost_days(settings, [D1])
    assert _status(settings)[str(D1)] == (4, 4, 4, 1, "0.15000000")
    _import(settings, tmp_path / "late.csv", asterisk_line("a5", "35312345", DAY + 5 * HOUR, 60))
    assert _status(settings)[str(D1)] == (5, 5, 4, 1, "0.15000000")

    before = assert_same_as_every_call(settings)
    _broken(monkeypatch, "cdr_file_insert.sql")  # after the calls and cdr_day are written
    with pytest.raises(Exception, match="no_such_column"):
        _import(
            settings,
            tmp_path / "failed.csv",
            asterisk_line("f1", "35312345", DAY + 6 * HOUR, 60),
            asterisk_line("f2", "35312345", DAY + 75 * HOUR, 60),  # day 4
        )
    monkeypatch.undo()
    assert assert_same_as_every_call(settings) == before  # rolled back with the calls

    cost_days(settings)
    before = assert_same_as_every_call(settings)
    _broken(monkeypatch, "cdr_costing_log_insert.sql")  # after the costs and cdr_day
    with pytest.raises(Exception, match="no_such_column"):
        cost_days(settings, [D1], recost=True, why="test")
    monkeypatch.undo()
    assert assert_same_as_every_call(settings) == before

    insert_history(settings, [("current", "1212", "US", "0.01", 1, 1, EPOCH, None)])
    cost_days(settings, [D1], recost=True, why="a prefix was missing")  # a backfill
    assert _status(settings)[str(D1)] == (5, 5, 5, 0, "0.20500000")
    _import(settings, tmp_path / "b.csv", asterisk_line("b1", "35312345", DAY + 75 * HOUR, 60))
    results = assert_same_as_every_call(settings)
    assert results[0][3] == [(D4,)]
    assert list(_status(settings)) == [str(D1), str(D2), str(D3), str(D4)]


def _tables_read(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> set[str]:
    explain = f"EXPLAIN {read_sql(f'queries/{name}.sql')}"
    [(_, plan)] = execute_named(con, explain, params).fetchall()
    return {table.rsplit(".", 1)[-1] for table in re.findall(r"Table: (\S+)", plan)}


def test_the_three_queries_read_no_stored_call(settings, tmp_path):
    """What makes them flat: they read cdr_day, one row per day, and the costing log (one row
    per costing), never cdr_call or cdr_cost (which grow by every call)."""
    _import(settings, tmp_path / "a.csv", asterisk_line("a1", "35312345", DAY, 60))
    cost_days(settings)
    _import(settings, tmp_path / "b.csv", asterisk_line("b1", "35312345", DAY + 30 * HOUR, 60))
    with Warehouse(settings).reader() as con:
        read = {name: _tables_read(con, name, {"days": 30, "today": D4}) for name in QUERIES}
    assert read == {
        "cdr_uncosted_days": {"cdr_day"},
        "cdr_status": {"cdr_day", "cdr_costing_log"},
        "cdr_profile_window": {"cdr_day"},
    }


COST = (
    "INSERT INTO cdr_cost VALUES (?, ?, ?, 'current', 'current', '35312345', 60, ?, ?, ?, 1, 1, "
    "60, ?, 'USD', NULL, ?, 1)"
)
CALL = (
    "INSERT INTO cdr_call VALUES (?, 1, ?, ?, ?, '35312345', '35312345', 'current', 63, 60, ?, ?)"
)


def _older_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    """The schema, macros and calls an older ratedeck left: day 1 costed (one call unmatched),
    day 2 not costed yet, day 3 unanswered only."""
    apply_schema_before(con, NEW)
    for folder in DERIVED_FOLDERS:  # its macros and views (they do not read cdr_day)
        for path in sql_files(folder):
            con.execute(path.read_text(encoding="utf-8"))
    for k, (day, billable) in enumerate([(D1, True), (D1, True), (D2, True), (D3, False)]):
        start = DAY + (k * 20) * HOUR
        con.execute(CALL, [f"c{k}", k + 1, start, day, billable, "ANSWERED"])
    con.execute(COST, ["c0", D1, DAY, "353", "Ireland", "0.05", "0.05", DAY])
    con.execute(COST, ["c1", D1, DAY + 20 * HOUR, None, None, None, None, DAY])
    con.execute(
        "INSERT INTO cdr_costing_log VALUES (1, ?, ?, false, 't', 't', 2, 1, 6, NULL, 0.05)",
        [D1, DAY],
    )


def test_an_older_warehouse_gets_the_counts_of_its_calls(tmp_path):
    with duckdb.connect(str(tmp_path / "old.duckdb")) as con:
        _older_warehouse(con)
        expected = _results(con, BEFORE.__getitem__)

        assert NEW in apply_migrations(con)

        assert _results(con, lambda name: read_sql(f"queries/{name}.sql")) == expected
        assert con.execute("SELECT * FROM cdr_day ORDER BY call_day").fetchall() == [
            (D1, 2, 2, 2, 1, Decimal("0.05000000")),
            (D2, 1, 1, 0, 0, 0),
            (D3, 1, 0, 0, 0, 0),
        ]
        assert all(
            comment
            for (comment,) in con.execute(
                "SELECT comment FROM duckdb_columns() WHERE table_name = 'cdr_day'"
            ).fetchall()
        )
        assert apply_migrations(con) == []  # once


def test_readers_of_a_warehouse_published_before_the_counts_answer_the_same(
    tmp_path, monkeypatch, capsys
):
    """Readers do not migrate: until the next writer, `cdr status`, the days left to cost and
    the profile read a published file without cdr_day, and must still answer from its calls."""
    settings = cdr_settings(tmp_path / "data")
    published = Warehouse(settings).published_path
    published.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(published)) as con:
        _older_warehouse(con)
        con.execute("CHECKPOINT")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ratedeck.toml").write_text(
        f'[paths]\ndata_dir = "{settings.data_dir}"\n[voice]\ntech_prefixes = ["current"]\n'
    )

    assert main(["--json", "cdr", "status"]) == 0
    days = json.loads(capsys.readouterr().out)["days"]
    assert [(d["day"], d["calls"], d["costed"], d["unmatched"]) for d in days] == [
        (str(D1), 2, 2, 1),
        (str(D2), 1, 0, 0),
        (str(D3), 1, 0, 0),
    ]
    with Warehouse(settings).working_reader() as con:
        assert uncosted_days(con) == [D2]
    with Warehouse(settings).reader() as con:
        profile = derived_traffic_profile(con, 30, today=D3)
    assert profile is not None
    assert (profile.window_start, profile.last_day, profile.calls) == (
        D1 - timedelta(days=29),
        D1,
        2,
    )


def test_the_counts_equal_every_call_after_corrections_and_a_failed_one(
    settings, tmp_path, monkeypatch
):
    """`cdr correct` moves a call to the next day, makes one unbillable and another dearer,
    and recosts both days; cdr_day follows, and a failed correction leaves it as it was."""
    from pipeline.stages.cdr_correction import CorrectionRequest, correct_calls

    _import(
        settings,
        tmp_path / "a.csv",
        asterisk_line("a1", "35312345", DAY + HOUR, 60),
        asterisk_line("a2", "35312345", DAY + 23 * HOUR, 60),
        asterisk_line("a3", "35312345", DAY + 2 * HOUR, 60),
    )
    cost_days(settings)
    _import(
        settings,
        tmp_path / "b.csv",
        asterisk_line("a1", "35312345", DAY + HOUR, 90),
        asterisk_line("a2", "35312345", DAY + 25 * HOUR, 60),  # day 2
        asterisk_line("a3", "35312345", DAY + 2 * HOUR, 60, answered=False),
    )
    before = assert_same_as_every_call(settings)
    _broken(monkeypatch, "cdr_costing_log_insert.sql")  # after the calls, costs and cdr_day
    with pytest.raises(Exception, match="no_such_column"):
        correct_calls(settings, CorrectionRequest(why="re-export"))
    monkeypatch.undo()
    assert assert_same_as_every_call(settings) == before

    done = correct_calls(settings, CorrectionRequest(why="re-export"))
    assert len(done.applied) == 3 and [c.day for c in done.recostings] == [D1]
    assert done.uncosted_days == (D2,)  # never costed: `cdr cost` costs it as new calls
    assert assert_same_as_every_call(settings)[0][3] == [(D2,)]
    assert _status(settings)[str(D1)] == (2, 1, 1, 0, "0.07500000")
    cost_days(settings)
    assert_same_as_every_call(settings)
