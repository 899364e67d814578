"""``parse_durations`` on text: the one-cast path for plain digits gives exactly what the
general (regex) parser gives, which a single bad value in the column forces."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.analytics.lookup import parse_durations

DURATION_TEXT = st.one_of(
    st.integers(0, 10**16).map(str),
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
    durations, reasons = parse_durations(pl.Series(["0", "+61", "007", "999999999999999"]))
    assert durations.tolist() == [0, 61, 7, 999_999_999_999_999]
    assert reasons.null_count() == 4


def test_a_long_or_signed_value_gets_its_reason():
    durations, reasons = parse_durations(pl.Series(["1234567890123456", "-0", "5"]))
    assert durations.tolist() == [0, 0, 5]
    assert reasons.to_list() == [
        "duration 1234567890123456 is not a whole number of seconds",  # > 15 digits
        "duration -0 is not a whole number of seconds",
        None,
    ]
