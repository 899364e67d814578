"""cdr_cost has no primary key (schema/100_cdr_cost_no_key.sql: its index made a first
costing's insert and commit 3x slower and grew with the history); each call (its call_id on
its day) stays once by construction, and a costing that would repeat one stores nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import polars as pl
import pytest
from support.cdr import DAY, HISTORY, asterisk_line, cdr_settings, insert_history, write_master
from support.migrations import apply_schema_before, assert_rebuilt

from pipeline.analytics.cdr import cost_rows
from pipeline.stages.cdr import cost_days, import_file
from pipeline.warehouse.cdr import CostingRequest, day_calls, record_costs, uncosted_days
from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.errors import WarehouseError
from pipeline.warehouse.migrate import apply_migrations

NEW = "100_cdr_cost_no_key.sql"
D1 = date(2026, 12, 1)
COST_ROW = (
    "c1", D1, datetime(2026, 12, 1, 8, tzinfo=DAY.tzinfo), "current", "current", "35312345", 60,
    "353", "Ireland", "0.05000000", 1, 1, 60, "0.05000000", "USD", None, DAY, 1,
)  # fmt: skip


def _primary_keys(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "SELECT constraint_text FROM duckdb_constraints() "
        "WHERE table_name = 'cdr_cost' AND constraint_type = 'PRIMARY KEY'"
    ).fetchall()


def test_an_older_warehouse_keeps_its_costs_and_comments_without_the_key(tmp_path):
    with duckdb.connect(str(tmp_path / "old.duckdb")) as con:
        apply_schema_before(con, NEW)  # what an older ratedeck left
        con.execute(
            "INSERT INTO cdr_cost VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            COST_ROW,
        )
        before = con.execute("SELECT * FROM cdr_cost").fetchall()
        assert _primary_keys(con) == [("PRIMARY KEY(call_id)",)]

        assert NEW in apply_migrations(con)

        assert con.execute("SELECT * FROM cdr_cost").fetchall() == before
        assert _primary_keys(con) == []
        comments = dict(
            con.execute(
                "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'cdr_cost'"
            ).fetchall()
        )
        assert comments["call_id"].startswith("The cdr_call costed")
        assert "not a declared key" in comments["call_id"]
        assert_rebuilt(con, "cdr_cost", "unique by the costing")
        assert apply_migrations(con) == []  # once


def test_costing_a_day_twice_and_a_late_call_keep_one_row_per_call(tmp_path):
    settings = cdr_settings(tmp_path / "data")
    insert_history(settings, HISTORY)
    first = write_master(
        tmp_path / "a.csv",
        [asterisk_line(f"c{i}", "35312345", DAY + timedelta(hours=i), 60) for i in range(3)],
    )
    import_file(settings, first)
    cost_days(settings)
    cost_days(settings, [D1])  # nothing new
    late = write_master(tmp_path / "b.csv", [asterisk_line("c9", "3531", DAY, 5)])
    import_file(settings, late)
    cost_days(settings)
    cost_days(settings, [D1], recost=True, why="test")
    with Warehouse(settings).reader() as con:
        counts = con.execute("SELECT count(*), count(DISTINCT call_id) FROM cdr_cost").fetchall()
    assert counts == [(4, 4)]


def test_staged_costs_that_repeat_a_call_are_refused_and_nothing_is_stored(tmp_path):
    settings = cdr_settings(tmp_path / "data")
    insert_history(settings, HISTORY)
    calls = [asterisk_line(f"c{i}", "35312345", DAY + timedelta(hours=i), 60) for i in range(2)]
    import_file(settings, write_master(tmp_path / "a.csv", calls))
    with Warehouse(settings).writer() as con:
        staged = cost_rows(con, day_calls(con, D1, recost=False), cost_decimals=6)
        assert staged.height == 2
        twice = pl.concat([staged, staged.head(1)])
        with pytest.raises(WarehouseError, match="costing 2026-12-01: call 'c0' staged twice"):
            record_costs(
                con, D1, twice, CostingRequest(recost=False, who="t", why="t", cost_decimals=6)
            )
        stored = con.execute(
            "SELECT (SELECT count(*) FROM cdr_cost), (SELECT count(*) FROM cdr_costing_log)"
        ).fetchall()
    assert stored == [(0, 0)]


# the days left to cost, call by call (the query cdr_uncosted_days.sql replaced)
CALL_BY_CALL = (
    "SELECT DISTINCT call_day FROM cdr_call c WHERE billable AND NOT EXISTS "
    "(SELECT 1 FROM cdr_cost k WHERE k.call_id = c.call_id) ORDER BY call_day"
)


def test_the_days_left_to_cost_counted_per_day_are_those_found_call_by_call(tmp_path):
    """``uncosted_days`` compares per-day counts (a day's costs are costs of its own billable
    calls, each once); at every step of imports, costings, late calls, unanswered calls and a
    recost it names exactly the days a call-by-call search finds."""
    settings = cdr_settings(tmp_path / "data")
    insert_history(settings, HISTORY)
    d2, d3 = D1 + timedelta(days=1), D1 + timedelta(days=2)

    def left() -> list[date]:
        with Warehouse(settings).reader() as con:
            expected = [day for (day,) in con.execute(CALL_BY_CALL).fetchall()]
            assert uncosted_days(con) == expected
        return expected

    def calls(name: str, *lines: str) -> None:
        import_file(settings, write_master(tmp_path / f"{name}.csv", list(lines)))

    hour = timedelta(hours=1)
    calls(
        "a",
        *(asterisk_line(f"a{i}", "35312345", DAY + i * hour, 60) for i in range(3)),
        asterisk_line("a9", "35312345", DAY + 30 * hour, 60),  # day 2
        asterisk_line("n1", "35312345", DAY + 50 * hour, 0, answered=False),  # day 3: unbilled
    )
    assert left() == [D1, d2]
    cost_days(settings, [D1])
    assert left() == [d2]
    calls("late", asterisk_line("a5", "35312345", DAY + 5 * hour, 60))  # a late call of day 1
    assert left() == [D1, d2]
    cost_days(settings)
    assert left() == []
    cost_days(settings, [D1], recost=True, why="test")
    calls("b", asterisk_line("b1", "35312345", DAY + 49 * hour, 60))  # day 3 bills now
    assert left() == [d3]
