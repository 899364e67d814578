"""The trunk zero written in brackets after the country code ("+44 (0) 20 ...") is dropped, and a
number copied from a web page or a spreadsheet (no-break, thin, ideographic spaces; zero-width
and bidi marks) is read as its digits, in every parser alike: ``lookup`` (one number), ``cost``
(the vectorised parser, via the command) and the SQL macros; each is checked against the
brute-force reference, and random strings (hypothesis), and every character of the BMP, are
normalised the same by all three."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.lookup_reference import Version, reference_billed, reference_cost, reference_match
from support.lookup_warehouse import JAN, cost_with_command, insert_versions

from pipeline.analytics.numbers import number_problem, parse_numbers
from pipeline.analytics.one_call import lookup_number
from pipeline.ingest.phone import INVISIBLE, WHITESPACE
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
# copied from web pages and spreadsheets: every Unicode space is a separator (phone.WHITESPACE,
# DuckDB's \s is ASCII only); invisible format characters are dropped (phone.INVISIBLE)
COPIED = [
    ("+44\u00a020\u00a07946\u00a00000", "442079460000"),  # no-break spaces
    ("+44\u202f20\u202f7946\u202f0000", "442079460000"),  # narrow no-break spaces
    ("+44\u200920\u20097946\u20090000", "442079460000"),  # thin spaces
    ("\u3000+44\u200720\u00a0(0)\u00a07946 0000", "442079460000"),  # ideographic, figure
    ("+44\x0b20\x0c7946\x1c0000\u2028", "442079460000"),  # VT, FF, U+001C, U+2028
    ("\ufeff\u202a+44 20 7946 0000\u202c", "442079460000"),  # BOM, bidi embedding
    ("\u200e+44\u200b(0)\u200b20\u00ad7946\u200f0000", "442079460000"),
    ("\u200e+1 (212)\u2060555\u200d0100", "12125550100"),
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


@pytest.mark.parametrize(("raw", "digits"), NUMBERS + COPIED)
def test_lookup(con, raw, digits):
    [result] = lookup_number(con, raw, tech_prefixes=["current"], duration_s=SECONDS, at=LATER)
    assert result.number == digits
    assert (result.matched_prefix, result.billed_seconds, result.cost) == _reference(digits)


@pytest.mark.parametrize(("raw", "digits"), NUMBERS + COPIED)
def test_sql_macros(con, raw, digits):
    assert con.execute("SELECT lpm_digits(?)", [raw]).fetchall() == [(digits,)]
    rate = con.execute("SELECT number, matched_prefix FROM lpm_rate(?, 'current', ?)", [raw, LATER])
    prefix, _, cost = _reference(digits)
    assert rate.fetchall() == [(digits, prefix)]
    assert con.execute(
        "SELECT call_cost(?, ?, 'current', ?)", [raw, SECONDS, LATER]
    ).fetchall() == [(cost,)]


def test_cost_command(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("RATEDECK_DATA_DIR", str(data_dir))

    costed = cost_with_command(tmp_path, [(raw, SECONDS) for raw, _ in NUMBERS + COPIED])

    assert costed.select("number", "matched_prefix", "billed_seconds", "cost").rows() == [
        (raw, prefix, str(billed), str(cost))
        for raw, digits in NUMBERS + COPIED
        for prefix, billed, cost in [_reference(digits)]
    ]


# what a number may be written with: digits and separators ("(0)" too, each four times as
# likely, so that most numbers are good ones), every kind of whitespace the three regex engines
# disagree on, the invisible format characters, and a few that are refused (a letter, a digit
# of another script, look-alikes of the separators)
PLAIN = ["+", "00", "0", "44", "1", " ", "(0)", "(", ")", "[", "]", "-", ".", ".0"]
REFUSED = ["x", "٤", "\u2061", "\u00b7", "\u2010", "\u2212"]
ALPHABET = PLAIN * 4 + list(WHITESPACE + INVISIBLE) + REFUSED
numbers_written = st.lists(
    st.lists(st.sampled_from(ALPHABET), max_size=9).map("".join), min_size=1, max_size=20
)


def sql_digits(con, numbers: list[str]) -> list[str | None]:
    """Each number's digits by the SQL macros (None where lpm_digits would raise)."""
    return con.execute(
        "SELECT list(CASE WHEN regexp_full_match(lpm_clean_number(n), '[0-9]+')"
        " AND NOT lpm_float_like(n) THEN lpm_clean_number(n) END ORDER BY i)"
        " FROM unnest(?) WITH ORDINALITY AS t(n, i)",
        [numbers],
    ).fetchone()[0]


def python_digits(numbers: list[str]) -> list[str | None]:
    return [number_problem(n)[0] for n in numbers]


def polars_digits(numbers: list[str]) -> list[str | None]:
    """By ``cost``'s vectorised parser (the fast key cast, then ``number_columns``)."""
    return parse_numbers(numbers, threads=1).digits.to_list()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(numbers=numbers_written)
def test_sql_polars_and_python_normalise_alike(con, numbers):
    expected = python_digits(numbers)
    assert sql_digits(con, numbers) == expected
    assert polars_digits(numbers) == expected


def test_every_character_is_read_alike(con):
    """Each character of the BMP inside a number, around a trunk zero and after one: a
    separator, dropped or refused, the same way by all three parsers."""
    numbers = [
        f"+44{c}2(0)0{c}" for c in map(chr, range(1, 0x10000)) if not "\ud800" <= c <= "\udfff"
    ]
    expected = python_digits(numbers)
    assert sql_digits(con, numbers) == expected
    assert polars_digits(numbers) == expected
    separators = {n[3] for n, digits in zip(numbers, expected, strict=True) if digits}
    assert separators >= set(WHITESPACE + INVISIBLE)
