"""The trunk zero written in brackets after the country code ("+44 (0) 20 ...") is dropped, in
every parser alike: ``lookup`` (one number), ``cost`` (the vectorised parser, via the command)
and the SQL macros; each is checked against the brute-force reference."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.lookup_reference import Version, reference_billed, reference_cost, reference_match
from support.lookup_warehouse import JAN, insert_versions

from pipeline.analytics.numbers import number_problem
from pipeline.analytics.one_call import lookup_number
from pipeline.cli import main
from pipeline.warehouse.migrate import apply_migrations

LATER = datetime(2026, 9, 1, tzinfo=UTC)
SECONDS = 61
# (prefix, destination, price, initial, increment): each wrong reading of a number below
# (the trunk zero kept, or a national zero dropped) lands on a different prefix
HISTORY = [
    ("44", "UK fixed", "0.0106", 1, 1),
    ("440", "UK trunk-zero misread", "0.9", 60, 60),
    ("4420", "London", "0.0125", 60, 60),
    ("442079", "London centre", "0.013", 30, 6),
    ("41", "Switzerland", "0.05", 1, 1),
    ("410", "Swiss trunk-zero misread", "0.8", 60, 60),
    ("4144", "Zurich", "0.041", 60, 1),
    ("1", "NANP", "0.01", 6, 6),
    ("1212", "New York", "0.007", 6, 6),
    ("20", "Egypt", "0.11", 1, 1),
    ("020", "national 020", "0.02", 1, 1),
]
NUMBERS = [  # (as written, its digits)
    ("+44 (0) 20 7946 0000", "442079460000"),
    ("+44(0)2079460000", "442079460000"),
    ("0044(0)2079460000", "442079460000"),
    ("00 44 (0) 20 7946 0000", "442079460000"),
    ("+41 (0)44 668 1800", "41446681800"),
    ("+44 (0) 20 (0) 1", "442001"),  # only the first (0) is a trunk zero
    # kept as before: brackets round other digits, a (0) with no country code before it,
    # a national number
    ("+1 (212) 555 0100", "12125550100"),
    ("(0)20 7946 0000", "02079460000"),
    ("+(0)20 7946 0000", "02079460000"),
    ("00(0)20 7946 0000", "02079460000"),  # 00 then a national number
    ("020 (0) 7946", "02007946"),
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir whose published warehouse holds HISTORY on ``current`` (file closed); the
    ``con`` of conftest.py reads it."""
    path = tmp_path_factory.mktemp("trunk_zero") / "data"
    path.mkdir()
    with duckdb.connect(str(path / "warehouse.duckdb")) as con:
        apply_migrations(con)
        insert_versions(con, [("current", *row, JAN, None) for row in HISTORY])
    return path


def _reference(digits: str) -> tuple[str, int, Decimal] | None:
    """(matched prefix, billed seconds, cost) of a SECONDS-long call, by brute force."""
    deck = [Version(p, d, Decimal(price), a, b) for p, d, price, a, b in HISTORY]
    match = reference_match(deck, digits, LATER)
    if match is None:
        return None
    billed = reference_billed(SECONDS, match.initial, match.increment)
    return match.prefix, billed, reference_cost(match.price, billed, 6)


def test_the_expected_digits_rate_as_the_reference_says():
    """The table above means what it says: the trunk-zero numbers rate on their city."""
    assert _reference("442079460000")[0] == "442079"
    assert _reference("41446681800")[0] == "4144"
    assert _reference("02079460000")[0] == "020"


@pytest.mark.parametrize(("raw", "digits"), NUMBERS)
def test_lookup(con, raw, digits):
    [result] = lookup_number(con, raw, tech_prefixes=["current"], duration_s=SECONDS, at=LATER)
    assert result.number == digits
    assert (result.matched_prefix, result.billed_seconds, result.cost) == _reference(digits)


@pytest.mark.parametrize(("raw", "digits"), NUMBERS)
def test_sql_macros(con, raw, digits):
    assert con.execute("SELECT lpm_digits(?)", [raw]).fetchall() == [(digits,)]
    rate = con.execute("SELECT number, matched_prefix FROM lpm_rate(?, 'current', ?)", [raw, LATER])
    prefix, _, cost = _reference(digits)
    assert rate.fetchall() == [(digits, prefix)]
    assert con.execute(
        "SELECT call_cost(?, ?, 'current', ?)", [raw, SECONDS, LATER]
    ).fetchall() == [(cost,)]


def test_cost_command(data_dir, tmp_path, monkeypatch, capsys):
    source = tmp_path / "calls.csv"
    calls = [(raw, SECONDS) for raw, _ in NUMBERS]
    pl.DataFrame(calls, schema=["number", "duration"], orient="row").write_csv(source)
    out = tmp_path / "costed.csv"
    monkeypatch.setenv("RATEDECK_DATA_DIR", str(data_dir))

    code = main(["cost", str(source), "--out", str(out), "--no-cache", "--tech-prefix", "current"])

    assert code == 0, capsys.readouterr().err
    costed = pl.read_csv(out, infer_schema=False)
    assert costed.select("number", "matched_prefix", "billed_seconds", "cost").rows() == [
        (raw, prefix, str(billed), str(cost))
        for raw, digits in NUMBERS
        for prefix, billed, cost in [_reference(digits)]
    ]


bracketed = st.lists(
    st.lists(
        st.sampled_from(["+", "00", "0", "44", " ", "(0)", "(", ")", "1", "\t"]), max_size=7
    ).map("".join),
    min_size=1,
    max_size=20,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(numbers=bracketed)
def test_sql_normalises_bracketed_zeros_as_python_does(con, numbers):
    sql = con.execute(
        "SELECT list(CASE WHEN regexp_full_match(lpm_clean_number(n), '[0-9]+')"
        " THEN lpm_clean_number(n) END ORDER BY i)"
        " FROM unnest(?) WITH ORDINALITY AS t(n, i)",
        [numbers],
    ).fetchone()[0]
    assert sql == [number_problem(n)[0] for n in numbers]
