"""A very long number costs the SQL macros no more work than a normal one: ``lpm_rate_at``
looks only at the prefixes of the number a deck can hold (at most ``KEY_DIGITS``, 19, digits:
the engine refuses a longer deck prefix, ingest keeps them to 15), not at every prefix of the
number (a 100,000-digit number was 100,001 candidate prefixes, 5 * 10**9 characters, and
``ratedeck lookup`` ran for minutes). Its price is the price ``cost`` gives it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb
import polars as pl
from support.lookup_warehouse import JAN, insert_versions

from pipeline.analytics.lookup import cost_calls, lookup_number
from pipeline.analytics.numbers import KEY_DIGITS

AT = datetime(2026, 9, 1, tzinfo=UTC)
LONG = "4420" + "7" * 20_000


def _rows_handled(con: duckdb.DuckDBPyConnection, query: str, parameters: list[object]) -> int:
    """The most rows any operator of ``query``'s plan produced (DuckDB's profile): the work a
    query does, counted rather than timed."""
    con.execute("SET enable_profiling = 'no_output'; SET profiling_mode = 'standard'")
    try:
        con.execute(query, parameters).fetchall()
        profile = json.loads(con.get_profiling_information(format="json"))
    finally:
        con.execute("SET enable_profiling = 'no_output'; PRAGMA disable_profiling")

    def most(operator: dict[str, object]) -> int:
        children = operator.get("children", [])
        assert isinstance(children, list)
        rows = operator.get("intermediate_rows", operator.get("operator_cardinality", 0))
        assert isinstance(rows, int)
        return max([rows, *(most(child) for child in children)])

    return max(most(operator) for operator in profile["operator"])


def test_lpm_rate_looks_at_no_more_prefixes_than_a_deck_can_hold(con):
    query = "SELECT matched_prefix FROM lpm_rate(?, 'current', ?)"
    assert con.execute(query, [LONG, AT]).fetchall() == [("4420",)]
    assert _rows_handled(con, query, [LONG, AT]) <= KEY_DIGITS + 1
    # the work does not grow with the number: a normal one has as many candidates
    assert _rows_handled(con, query, [LONG[:KEY_DIGITS], AT]) == _rows_handled(
        con, query, [LONG, AT]
    )


def test_lookup_sql_and_cost_price_a_100000_digit_number_alike(con):
    number = "44" + "1" * 100_000  # the auditor's number: UK fixed (44)
    [looked_up] = lookup_number(con, number, tech_prefixes=["current"], duration_s=60, at=AT)
    [(sql_cost,)] = con.execute("SELECT call_cost(?, 60, 'current', ?)", [number, AT]).fetchall()
    costed = cost_calls(
        con,
        pl.DataFrame({"number": [number], "duration": [60], "started_at": [AT]}),
        tech_prefixes=["current"],
    ).frame

    assert (looked_up.number, looked_up.matched_prefix) == (number, "44")
    assert looked_up.cost == sql_cost == costed["cost"][0]


def test_the_longest_prefix_the_engine_holds_is_matched_by_sql_and_the_engine(scratch):
    """The macro's bound is the engine's: a deck prefix of KEY_DIGITS digits still matches."""
    longest = "4" * KEY_DIGITS
    insert_versions(scratch, [("current", longest, "Longest", "0.6", 1, 1, JAN, None)])
    number = longest + "12345"

    query = "SELECT matched_prefix FROM lpm_rate(?, 'current', ?)"
    sql = scratch.execute(query, [number, AT]).fetchall()
    costed = cost_calls(
        scratch,
        pl.DataFrame({"number": [number], "duration": [60], "started_at": [AT]}),
        tech_prefixes=["current"],
    ).frame

    assert sql == [(longest,)]
    assert costed["matched_prefix"].to_list() == [longest]
