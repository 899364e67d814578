"""Phone-number normalising: one at a time, in bulk (fast and slow paths), and keys."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.analytics import numbers as numbers_module
from pipeline.analytics.numbers import (
    KEY_DIGITS,
    BadNumberError,
    normalise_number,
    number_problem,
    parse_numbers,
)
from pipeline.errors import InputError


@pytest.mark.parametrize(
    ("raw", "digits"),
    [
        ("+44 20 7946 0000", "442079460000"),
        ("0044 (20) 7946-0000", "442079460000"),
        ("00 44.20", "4420"),
        ("353.89.10", "3538910"),  # dots as separators are fine; only a float tail is not
        ("[44] 20", "4420"),
        ("+0044 20", "4420"),
        ("\t353 89\u00a0941 234 ", "35389941234"),
        ("0201234", "0201234"),  # one leading zero is a national number: kept
        ("000123", "0123"),  # only one 00 is an international prefix
        ("4", "4"),
        # the international form's trunk zero in brackets goes: +44 (0) 20 is London 4420
        ("+44 (0) 20 7946 0000", "442079460000"),
        ("0044(0)2079460000", "442079460000"),
        ("+41 (0)44 668 1800", "41446681800"),
        ("\t+49 (0)30-1234", "49301234"),
        ("+44 (0) 20 (0) 1", "442001"),  # only the first
        ("+44(0)", "44"),
        # otherwise a (0) is what the user typed: brackets removed, digits kept
        ("(0)20 7946 0000", "02079460000"),  # national form
        ("020 (0) 1", "02001"),
        ("+(0)20", "020"),  # no country code before it
        ("00(0)20", "020"),
        ("+1 (212) 555 0100", "12125550100"),  # other digits in brackets
        ("+44 (00) 20", "440020"),
        ("+44 [0] 20", "44020"),
    ],
)
def test_normalise_number(raw, digits):
    assert normalise_number(raw) == digits


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("44ABC", "letters are not allowed"),
        ("1-800-FLOWERS", "letters are not allowed"),
        ("44#1", "unexpected character '#'"),
        ("4/4", "unexpected character '/'"),
        ("４４", "unexpected character '４'"),
        ("", "no digits"),
        ("+ ( )", "no digits"),
        ("00", "no digits"),
        ("353.0", "looks like a spreadsheet float (trailing .0)"),  # not 3530
        (" +4420.00 ", "looks like a spreadsheet float (trailing .0)"),
    ],
)
def test_bad_numbers_are_refused_naming_them(raw, reason):
    with pytest.raises(BadNumberError) as caught:
        normalise_number(raw, where="row 7")
    assert str(caught.value) == f"row 7: bad number {raw!r}: {reason}"
    assert isinstance(caught.value, InputError) and caught.value.exit_code == 2


def _key(digits: str) -> int:
    return int(digits[:KEY_DIGITS].ljust(KEY_DIGITS, "0"))


messy = st.lists(
    st.one_of(
        st.none(),
        st.text(alphabet="0123456789", max_size=25),
        st.text(alphabet="0000000001", min_size=18, max_size=24),  # long, leading zeros
        st.text(alphabet="00000+123 -.()[]", max_size=12),
        st.text(alphabet="0123456789+ -.()[]aZé#/\t", max_size=14),
        # bracketed zeros in every position: the trunk-zero rule and its exceptions
        st.lists(
            st.sampled_from(["+", "00", "0", "44", " ", "(0)", "(", ")", "1"]), max_size=7
        ).map("".join),
    ),
    max_size=40,
)


@settings(max_examples=100, deadline=None)
@given(raw=messy, block=st.sampled_from([1, 3, 1 << 18]))
def test_bulk_parsing_agrees_with_one_at_a_time(raw, block):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(numbers_module, "_BLOCK", block)
        parsed = parse_numbers(pl.Series("number", raw, dtype=pl.String))
    expected = [number_problem(r) for r in raw]
    assert parsed.digits.to_list() == [d for d, _ in expected]
    assert parsed.problems.to_list() == [p for _, p in expected]
    assert parsed.bad.tolist() == [p is not None for _, p in expected]
    good = [(d or "") for d, _ in expected]
    assert parsed.keys.tolist() == [_key(d) if d else 0 for d in good]
    assert parsed.lengths.tolist() == [len(d) for d in good]


@pytest.mark.parametrize(
    "digits",
    [
        "010000000000000000000",
        "01000000000000000000",
        "0100000000000000000",
        "99999999999999999999",
    ],
)
def test_long_numbers_key_on_their_first_19_digits(digits):
    parsed = parse_numbers(pl.Series([digits]))
    assert (parsed.keys.tolist(), parsed.lengths.tolist()) == ([_key(digits)], [len(digits)])


def test_bulk_parsing_drops_the_trunk_zero_only_where_one_at_a_time_does():
    raw = ["+44 (0) 20 7946", "44207946", "(0)20 7946", "+1 (212) 555", "+44 20 (0) 1", None]
    parsed = parse_numbers(pl.Series("number", raw, dtype=pl.String))
    digits = ["44207946", "44207946", "0207946", "1212555", "44201", None]
    assert parsed.digits.to_list() == digits
    assert parsed.raw.to_list() == raw  # the text itself is left as it was


def test_select_keeps_fixes_aligned():
    parsed = parse_numbers(pl.Series(["+441", "442", "x", "0044 3", "445"]))
    kept = parsed.select(np.array([False, True, True, True, False]))
    assert kept.digits.to_list() == ["442", None, "443"]
    assert kept.problems.to_list() == [None, "letters are not allowed", None]
    assert kept.keys.tolist() == [_key("442"), 0, _key("443")]


def test_numbers_not_text_are_read_as_text():
    parsed = parse_numbers(pl.Series([442079, None], dtype=pl.Int64))
    assert parsed.digits.to_list() == ["442079", None]
    assert parsed.problems.to_list() == [None, "no number"]
