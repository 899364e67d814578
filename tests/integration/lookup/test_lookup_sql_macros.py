"""The SQL macros (sql/macros/100_lpm.sql) give what the Python engine gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import duckdb
import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.lookup_reference import reference_cost
from support.lookup_warehouse import JAN, JUN, insert_versions

from pipeline.analytics import LpmEngine
from pipeline.analytics.lookup import cost_calls, load_versions
from pipeline.analytics.numbers import BadNumberError, normalise_number, parse_numbers
from pipeline.analytics.one_call import MAX_CALL_SECONDS, TOO_LARGE
from pipeline.warehouse.db import Warehouse

T0 = datetime(2026, 1, 1, tzinfo=UTC)
moments = st.integers(0, 12).map(lambda half_days: T0 + timedelta(hours=12 * half_days))
increments = st.sampled_from([(1, 1), (60, 60), (30, 6), (60, 1), (0, 7)])


@st.composite
def history(draw):
    rows = []
    for prefix in draw(st.lists(st.text(alphabet="0149", max_size=5), max_size=10)):
        for _ in range(draw(st.integers(1, 3))):
            a, b = draw(increments)
            units = draw(st.integers(0, 10**10))
            rows.append(
                (
                    "current",
                    prefix,
                    draw(st.sampled_from(["A", "B", "C"])),
                    str(Decimal(units).scaleb(-8)),
                    a,
                    b,
                    draw(moments),  # valid_from is NOT NULL in the warehouse
                    draw(st.one_of(st.none(), moments)),
                )
            )
    return rows


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=history(),
    numbers=st.lists(st.text(alphabet="0149", min_size=1, max_size=8), min_size=1, max_size=5),
    at=moments,
    seconds=st.integers(0, 400),
)
@pytest.mark.slow  # hypothesis examples against DuckDB
def test_lpm_rate_and_call_cost_equal_the_engine(scratch, rows, numbers, at, seconds):
    scratch.execute("DELETE FROM voice_rate")
    insert_versions(scratch, rows)
    deck = load_versions(scratch, "current", at, at)
    engine = LpmEngine(deck)
    matched = engine.match(parse_numbers(pl.Series(numbers, dtype=pl.String)), at)
    rated = engine.rate_rows(matched, np.full(len(numbers), seconds), 6).to_dicts()
    for number, row, expected in zip(numbers, matched.tolist(), rated, strict=True):
        if normalise_number_or_none(number) is None:
            continue
        sql = scratch.execute(
            "SELECT matched_prefix, destination, price, initial_seconds, increment_seconds"
            " FROM lpm_rate(?, 'current', ?)",
            [number, at],
        ).fetchall()
        cost = scratch.execute("SELECT call_cost(?, ?, 'current', ?)", [number, seconds, at])
        if row < 0:
            assert sql == []
            assert cost.fetchall() == [(None,)]
            continue
        version = deck.row(row, named=True)
        assert sql == [
            (
                expected["matched_prefix"],
                expected["destination"],
                expected["price"],
                version["initial_seconds"],
                version["increment_seconds"],
            )
        ]
        assert cost.fetchall() == [(expected["cost"],)]


def normalise_number_or_none(number: str) -> str | None:
    try:
        return normalise_number(number)
    except BadNumberError:
        return None


def test_call_cost_over_a_table_equals_cost_calls(con):
    calls = pl.DataFrame(
        {
            "number": ["+44 20 1234", "4420 1234", "442079", "449", "449", "33", "44"],
            "duration": [61, 61, 37, 5, 5, 10, 0],
            "started_at": [
                JAN + timedelta(days=30),
                JUN,
                JUN,
                JUN - timedelta(microseconds=1),
                JUN,
                JUN,
                JUN,
            ],
        }
    )
    python = cost_calls(con, calls, tech_prefixes=["current", "021001"]).frame
    con.register("calls", calls.with_row_index("call_id").to_arrow())
    sql = con.execute(
        "SELECT c.number, t.tech_prefix,"
        " call_cost(c.number, c.duration, t.tech_prefix, c.started_at) AS cost"
        " FROM calls c, (VALUES ('current', 0), ('021001', 1)) t(tech_prefix, k)"
        " ORDER BY c.call_id, t.k"
    ).fetchall()
    assert sql == list(python.select("number", "tech_prefix", "cost").iter_rows())


@pytest.mark.parametrize("raw", ["44x", "4#4", "", "00", " + ", "353.0"])
def test_bad_numbers_fail_in_sql_with_the_python_message(con, raw):
    with pytest.raises(BadNumberError) as python:
        normalise_number(raw)
    with pytest.raises(duckdb.InvalidInputException) as sql:
        con.execute("SELECT * FROM lpm_rate(?, 'current')", [raw]).fetchall()
    assert str(python.value) in str(sql.value)


@pytest.mark.parametrize("number", ["44", "331234"])  # matched or not: the seconds are bad
@pytest.mark.parametrize("seconds", ["-1", "2.5"])
def test_call_cost_refuses_bad_seconds(con, seconds, number):
    with pytest.raises(duckdb.InvalidInputException, match="whole number >= 0"):
        con.execute(f"SELECT call_cost('{number}', {seconds}, 'current')").fetchall()


@pytest.mark.parametrize("number", ["44", "331234"])
@pytest.mark.parametrize("seconds", [MAX_CALL_SECONDS + 1, 10**9, 10**12, 1e30])
def test_call_cost_refuses_a_call_longer_than_lookup_and_cost_take(con, seconds, number):
    """One duration limit (one_call.MAX_CALL_SECONDS), worded as lookup and cost word it."""
    expected = f"call seconds {seconds} {TOO_LARGE}"
    for query in (
        "SELECT call_cost(?, ?, 'current')",
        "SELECT call_cost(?, ?, 'current', TIMESTAMPTZ '2026-03-01 00:00:00+00')",
    ):
        with pytest.raises(duckdb.InvalidInputException) as caught:
            con.execute(query, [number, seconds]).fetchall()
        assert str(caught.value).splitlines()[0].endswith(expected)


def test_call_cost_of_the_longest_call_is_exact(con):
    """999,999,999 s is still a call: 449 (0.9 per minute, 1/1, from JAN) bills every second."""
    cost = con.execute("SELECT call_cost('449', ?, 'current', ?)", [MAX_CALL_SECONDS, JAN])
    assert cost.fetchall() == [(reference_cost(Decimal("0.9"), MAX_CALL_SECONDS, 6),)]
    assert con.execute(
        "SELECT call_cost('331234', ?, 'current')", [MAX_CALL_SECONDS]
    ).fetchall() == [(None,)]


def test_two_argument_forms_use_now_and_null_moment_means_now(con):
    now = con.execute("SELECT * FROM lpm_rate('4420 1', 'current')").fetchall()
    assert now[0][2:5] == ("4420", "London", Decimal("0.25000000"))
    assert con.execute("SELECT call_cost('44201', 61, 'current')").fetchall() == [
        (Decimal("0.500000"),)
    ]
    assert con.execute("SELECT call_cost('44201', 61, 'current', NULL)").fetchall() == [
        (Decimal("0.500000"),)
    ]
    assert con.execute("SELECT typeof(call_cost('44', 1, 'current'))").fetchall() == [
        ("DECIMAL(18,6)",)
    ]


def test_macros_work_on_the_published_read_only_warehouse(data_dir, tmp_path):
    with Warehouse(data_dir / "warehouse.duckdb", tmp_path / "state").reader() as reader:
        rows = reader.execute(
            "SELECT matched_prefix, price FROM lpm_rate('+44 20 7946 0000', 'current', ?)",
            [JAN + timedelta(days=1)],
        ).fetchall()
        cost = reader.execute("SELECT call_cost('442079460000', 31, 'current')").fetchall()
    assert rows == [("442079", Decimal("0.30000000"))]
    assert cost == [(Decimal("0.180000"),)]
