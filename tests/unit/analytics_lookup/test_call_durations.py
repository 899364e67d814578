"""``parse_durations`` on text: the one-cast path for plain digits gives exactly what the
general (regex) parser gives, which a single bad value in the column forces."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.analytics.lookup import parse_durations
from pipeline.analytics.one_call import MAX_CALL_SECONDS

DURATION_TEXT = st.one_of(
    st.integers(0, 10**16).map(str),
    st.integers(10**9 - 3, 10**9 + 3).map(str),  # around the limit
    st.integers(0, 10**30).map(lambda n: f"{n:025d}"),  # long, zero-padded, beyond 2**64
    st.integers(0, 10**6).map(lambda n: f"+{n}"),
    st.integers(0, 999).map(lambda n: f"{n:06d}"),  # leading zeros
    st.sampled_from(["-0", "-5", " 7", "7 ", "1.0", "1.5", "1e3", "", "x", "+", "٣"]),
)


def _general(values: list[str]) -> tuple[list[int], list[str | None]]:
    """Through the general parser: a bad value appended keeps the fast path away."""
    durations, reasons = parse_durations(pl.Series([*values, "not a number"]))
    return durations[:-1].tolist(), reasons.head(len(values)).to_list()


@settings(max_examples=200, deadline=None)
@given(st.lists(DURATION_TEXT, min_size=1, max_size=8))
def test_plain_digits_parse_as_the_general_parser_does(values):
    durations, reasons = parse_durations(pl.Series(values, dtype=pl.String))
    assert (durations.tolist(), reasons.to_list()) == _general(values)


def test_plain_digits_take_one_cast():
    durations, reasons = parse_durations(pl.Series(["0", "+61", "007", "999999999"]))
    assert durations.tolist() == [0, 61, 7, MAX_CALL_SECONDS]
    assert reasons.null_count() == 4


def test_a_signed_value_gets_its_reason():
    durations, reasons = parse_durations(pl.Series(["-0", "5", "0000000000000000000061"]))
    assert durations.tolist() == [0, 5, 61]
    assert reasons.to_list() == ["duration -0 is not a whole number of seconds", None, None]


TOO_LARGE = "is too large: at most 999,999,999 seconds"


@pytest.mark.parametrize(
    "column",
    [
        pl.Series(["1000000000", "99999999999999999999999", "9223372036854775807", "1e20", "5"]),
        pl.Series([10**9, 10**22, 2**63 - 1, 10**20, 5], dtype=pl.Int128),
        pl.Series([10**9, 2**62, 2**63 - 1, 10**18, 5], dtype=pl.Int64),  # billed would wrap
        pl.Series([10**9, 2**64 - 1, 2**63 - 1, 10**19, 5], dtype=pl.UInt64),
        pl.Series([1e9, 1e22, float("inf"), 1e20, 5.0]),
    ],
    ids=["text", "int128", "int64", "uint64", "float"],
)
def test_a_duration_beyond_the_limit_is_too_large(column):
    durations, reasons = parse_durations(column)
    assert durations[-1] == 5 and reasons[-1] is None
    assert reasons[:4].to_list() == [
        f"duration {value} {TOO_LARGE}" for value in column[:4].cast(pl.String)
    ]


@pytest.mark.parametrize(
    "column",
    [
        pl.Series(["999999999"]),
        pl.Series([999_999_999], dtype=pl.Int64),
        pl.Series([999_999_999], dtype=pl.UInt64),
        pl.Series([999_999_999.0]),
    ],
    ids=["text", "int64", "uint64", "float"],
)
def test_the_limit_itself_is_a_duration(column):
    durations, reasons = parse_durations(column)
    assert (durations.tolist(), reasons.to_list()) == ([MAX_CALL_SECONDS], [None])
