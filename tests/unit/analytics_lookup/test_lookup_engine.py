"""The LPM engine against a brute-force reference: matches, as-of versions, billing, cost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.lookup_reference import (
    INCREMENTS,
    T0,
    Version,
    deck_frame,
    number_text,
    reference_billed,
    reference_cost,
    reference_match,
    versions,
)

from pipeline.analytics import CostOverflowError, DeckError, LpmEngine, epoch_us
from pipeline.analytics.numbers import number_problem, parse_numbers
from pipeline.analytics.one_call import MAX_CALL_SECONDS

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _rate(deck: list[Version], numbers, durations, at, *, decimals=6, block=3, **engine_options):
    engine = LpmEngine(deck_frame(deck), **engine_options)
    at_us = np.array([epoch_us(t) for t in at], dtype=np.int64)
    return engine.rate(
        parse_numbers(pl.Series(numbers, dtype=pl.String)),
        np.array(durations, dtype=np.int64),
        at=at_us,
        decimals=decimals,
        block=block,  # by default several blocks, on two threads
        threads=2,
    )


def _expected(deck, number, seconds, at, decimals=6):
    digits, problem = number_problem(number)  # "00" -> "", a bad number: left unmatched
    match = None if problem else reference_match(deck, digits, at)
    if match is None:
        return {
            k: None for k in ("matched_prefix", "destination", "price", "billed_seconds", "cost")
        }
    billed = reference_billed(seconds, match.initial, match.increment)
    return {
        "matched_prefix": match.prefix,
        "destination": match.destination,
        "price": match.price,
        "billed_seconds": billed,
        "cost": reference_cost(match.price, billed, decimals),
    }


@FAST
@given(
    deck=versions(),
    calls=st.lists(
        st.tuples(number_text, st.integers(0, 5000), st.integers(0, 7 * 24)),
        min_size=1,
        max_size=25,
    ),
    decimals=st.integers(0, 8),
)
def test_engine_equals_brute_force(deck, calls, decimals):
    numbers = [c[0] for c in calls]
    durations = [c[1] for c in calls]
    at = [T0 + timedelta(hours=c[2]) for c in calls]
    got = _rate(deck, numbers, durations, at, decimals=decimals).to_dicts()
    for row, number, seconds, moment in zip(got, numbers, durations, at, strict=True):
        assert row == _expected(deck, number, seconds, moment, decimals), (number, seconds, moment)


@FAST
@given(
    deck=versions(),
    calls=st.lists(st.tuples(number_text, st.integers(0, 5000)), min_size=1, max_size=25),
    hours=st.lists(st.integers(0, 7 * 24), min_size=1, max_size=3),
    block=st.sampled_from([3, 1 << 16]),
)
def test_calls_at_a_few_moments_equal_brute_force(deck, calls, hours, block):
    """Blocks whose calls all fall between the same two price changes take the per-moment
    table (``LpmEngine._rows_at_rank``); the others walk; both agree with the reference."""
    engine = LpmEngine(deck_frame(deck))
    numbers = [c[0] for c in calls]
    durations = [c[1] for c in calls]
    at = [T0 + timedelta(hours=hours[i * len(hours) // len(calls)]) for i in range(len(calls))]
    got = engine.rate(
        parse_numbers(pl.Series(numbers, dtype=pl.String)),
        np.array(durations, dtype=np.int64),
        at=np.array([epoch_us(t) for t in at], dtype=np.int64),
        block=block,
        threads=2,
    ).to_dicts()
    for row, number, seconds, moment in zip(got, numbers, durations, at, strict=True):
        assert row == _expected(deck, number, seconds, moment), (number, seconds, moment)
    if len(hours) == 1:  # one moment for all: the same through a scalar time
        scalar = engine.rate(
            parse_numbers(pl.Series(numbers, dtype=pl.String)),
            np.array(durations, dtype=np.int64),
            at=at[0],
        ).to_dicts()
        assert scalar == got


@settings(max_examples=50, deadline=None)
@given(deck=versions(history=False, max_size=30), numbers=st.lists(number_text, max_size=30))
@pytest.mark.parametrize(
    "shape", [{"first_digits": 1, "stride": 1}, {"first_digits": 3, "stride": 3}, {}]
)
def test_trie_shape_does_not_change_matches(shape, deck, numbers):
    engine = LpmEngine(deck_frame(deck), **shape)
    rows = engine.match(parse_numbers(pl.Series(numbers, dtype=pl.String)))
    for number, row in zip(numbers, rows.tolist(), strict=True):
        digits, problem = number_problem(number)
        expected = None if problem else reference_match(deck, digits, T0)
        assert (None if row < 0 else deck[row].prefix) == (expected and expected.prefix)


def test_a_block_across_many_price_changes_walks_and_equals_brute_force():
    """More price changes in one block than ``_FEW_RANKS``: no table per stretch, the walk
    (the other tests' blocks span fewer)."""
    deck = [Version("4", "any", Decimal("0.01"), 1, 1)]
    for day in range(12):  # "44" changes price every day; a gap on day 5 falls to "4"
        if day != 5:
            start = T0 + timedelta(days=day)
            deck.append(
                Version("44", "UK", Decimal(day + 1) / 10, 60, 6, start, start + timedelta(days=1))
            )
    moments = [T0 + timedelta(days=d, hours=7) for d in range(-1, 13)]
    numbers = ["441234", "4", "44", "4512"] * len(moments)
    at = [m for m in moments for _ in range(4)]
    got = _rate(deck, numbers, [61] * len(numbers), at, block=1 << 16).to_dicts()
    for row, number, moment in zip(got, numbers, at, strict=True):
        assert row == _expected(deck, number, 61, moment), (number, moment)
    assert {row["price"] for row in got} >= {Decimal("0.1"), Decimal("1.2"), Decimal("0.01")}


def test_a_prefix_whose_only_version_is_withdrawn_falls_to_its_parent():
    # found by the property test above: with no other time bound, the engine took the deck
    # for timeless and left "0" unmatched instead of rating it on ""
    deck = [
        Version("", "any", Decimal("1"), 1, 1),
        Version("0", "zero", Decimal("2"), 1, 1, valid_from=T0, valid_to=T0),
    ]
    got = _rate(deck, ["0", "01"], [60, 60], [T0, T0])
    assert got["matched_prefix"].to_list() == ["", ""]
    assert got["cost"].to_list() == [Decimal("1.000000")] * 2


def test_nested_prefixes_and_short_numbers():
    deck = [Version(p, p, Decimal("1"), 1, 1) for p in ("4", "44", "4420", "442079")]
    numbers = ["4420791234", "44207", "442", "44", "4", "", "5", "4420"]
    got = _rate(deck, numbers, [60] * len(numbers), [T0] * len(numbers))["matched_prefix"]
    assert got.to_list() == ["442079", "4420", "44", "44", "4", None, None, "4420"]


def test_numbers_longer_than_the_key_match_on_their_digits():
    deck = [
        Version("12345678901234567890"[:19], "long", Decimal("1"), 1, 1),
        Version("1", "one", Decimal("2"), 1, 1),
    ]
    got = _rate(deck, ["1234567890123456789012345", "12345678901234567800"], [1, 1], [T0, T0])
    assert got["destination"].to_list() == ["long", "one"]


@pytest.mark.parametrize(
    ("increments", "seconds", "billed"),
    [
        ((1, 1), 0, 0),
        ((1, 1), 1, 1),
        ((1, 1), 61, 61),
        ((60, 60), 1, 60),
        ((60, 60), 10, 60),
        ((60, 60), 60, 60),
        ((60, 60), 61, 120),
        ((30, 6), 1, 30),
        ((30, 6), 31, 36),
        ((30, 6), 36, 36),
        ((30, 6), 37, 42),
        ((60, 1), 59, 60),
        ((60, 1), 61, 61),
        ((0, 60), 1, 60),
    ],
)
def test_billing_increments(increments, seconds, billed):
    deck = [Version("44", "UK", Decimal("0.6"), *increments)]
    row = _rate(deck, ["441"], [seconds], [T0]).row(0, named=True)
    assert row["billed_seconds"] == billed
    assert row["cost"] == (Decimal("0.6") * billed / 60).quantize(Decimal("0.000001"))


def test_cost_rounds_half_up_once():
    # 0.00003 per minute x 1 s = 0.0000005 -> 0.000001 (half up), never 0 or a float artefact
    deck = [
        Version("1", "x", Decimal("0.00003"), 1, 1),
        Version("2", "y", Decimal("0.00002999"), 1, 1),
    ]
    got = _rate(deck, ["1", "2"], [1, 1], [T0, T0])["cost"].to_list()
    assert got == [Decimal("0.000001"), Decimal("0.000000")]


def test_as_of_across_price_changes():
    jan, jun = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
    deck = [
        Version("44", "UK", Decimal("0.1"), 1, 1, jan, None),
        Version("4420", "London", Decimal("0.2"), 60, 60, jan, jun),
        Version("4420", "London", Decimal("0.25"), 60, 60, jun, None),
        Version(
            "447", "UK mobile", Decimal("0.5"), 1, 1, jun + timedelta(days=30), None
        ),  # scheduled
        Version("449", "gone", Decimal("0.9"), 1, 1, jan, jun),  # removed in June
        Version("448", "withdrawn", Decimal("0.9"), 1, 1, jun, jun),  # empty interval
    ]
    cases = [
        ("44201", datetime(2026, 3, 1, tzinfo=UTC), "4420", Decimal("0.2")),
        ("44201", jun - timedelta(microseconds=1), "4420", Decimal("0.2")),
        ("44201", jun, "4420", Decimal("0.25")),
        ("4471", jun, "44", Decimal("0.1")),
        ("4471", jun + timedelta(days=30), "447", Decimal("0.5")),
        ("4491", jun - timedelta(days=1), "449", Decimal("0.9")),
        ("4491", jun, "44", Decimal("0.1")),
        ("4481", jun, "44", Decimal("0.1")),
        ("44201", datetime(2025, 12, 31, tzinfo=UTC), None, None),
    ]
    got = _rate(deck, [c[0] for c in cases], [60] * len(cases), [c[1] for c in cases])
    assert got["matched_prefix"].to_list() == [c[2] for c in cases]
    assert got["price"].to_list() == [c[3] for c in cases]


def test_one_moment_for_all_numbers_and_default_now():
    deck = [
        Version("44", "old", Decimal("1"), 1, 1, T0, T0 + timedelta(days=1)),
        Version("44", "new", Decimal("2"), 1, 1, T0 + timedelta(days=1), None),
    ]
    engine = LpmEngine(deck_frame(deck))
    numbers = parse_numbers(pl.Series(["441", "442"]))
    assert engine.match(numbers, T0).tolist() == [0, 0]
    assert engine.rate(numbers, np.array([1, 1]))["destination"].to_list() == ["new", "new"]


def test_overlapping_versions_latest_valid_from_wins():
    deck = [
        Version("44", "long", Decimal("1"), 1, 1, T0, None),
        Version("44", "short", Decimal("2"), 1, 1, T0 + timedelta(days=2), T0 + timedelta(days=4)),
    ]
    at = [T0 + timedelta(days=d) for d in (1, 2, 3, 4, 5)]
    got = _rate(deck, ["44"] * 5, [60] * 5, at)["destination"].to_list()
    assert got == ["long", "short", "short", "long", "long"]


def test_bad_numbers_are_unmatched_in_the_engine():
    deck = [Version("", "anything", Decimal("1"), 1, 1)]
    got = _rate(deck, ["44x", "", "+44"], [1, 1, 1], [T0] * 3)["destination"].to_list()
    assert got == [None, None, "anything"]


def test_empty_deck_matches_nothing():
    got = _rate([], ["44", ""], [5, 0], [T0, T0])
    assert got["matched_prefix"].to_list() == [None, None]
    assert got["cost"].to_list() == [None, None]


def test_negative_price_rounds_half_away_from_zero():
    deck = [Version("1", "credit", Decimal("-0.00003"), 1, 1)]
    assert _rate(deck, ["1"], [1], [T0])["cost"].to_list() == [Decimal("-0.000001")]


def test_huge_prices_fall_back_to_exact_python_integers():
    top = Decimal("9999999999.99999999")  # DECIMAL(18, 8) at its largest: beyond int64 x 10 s
    deck = [Version("1", "x", top, 1, 1), Version("2", "y", Decimal("0.1"), 1, 1)]
    got = _rate(deck, ["1", "2"], [10, 10], [T0, T0])["cost"].to_list()
    assert got == [reference_cost(top, 10, 6), Decimal("0.016667")]


def test_a_cost_beyond_decimal_18_is_an_error_not_a_wrong_number():
    deck = [Version("1", "x", Decimal("9999999999.99999999"), 1, 1)]
    with pytest.raises(CostOverflowError, match="more than DECIMAL"):
        _rate(deck, ["1"], [10**9], [T0])


def test_kept_overflows_are_listed_by_position_across_blocks_and_threads():
    """With ``keep_overflow`` the calls too dear for DECIMAL(18, 6) are listed (block 3 on
    two threads: positions in the whole input), the others costed exactly; a bad number
    whose digits would match a dear prefix is no call and no overflow."""
    top = Decimal("9999999999.99999999")
    deck = [Version("1", "x", top, 1, 1), Version("2", "y", Decimal("0.1"), 1, 1)]
    numbers = ["1", "2", "2", "1", "2", "1x", "1", "2"]
    durations = [10**9, 10**9, 5, 10, 7, 10**9, 10**9, 1]
    engine = LpmEngine(deck_frame(deck))
    rating = engine.rate_arrays(
        parse_numbers(pl.Series(numbers, dtype=pl.String)),
        np.array(durations, dtype=np.int64),
        at=epoch_us(T0),
        block=3,
        threads=2,
        keep_overflow=True,
    )
    reason = (
        f"a call of {10**9} billed seconds at {top} per minute costs more than "
        "DECIMAL(18, 6) can hold"
    )
    assert rating.overflow == {0: reason, 6: reason}
    fits = [i for i in range(len(numbers)) if i not in (0, 5, 6)]
    assert [rating.frame["cost"][i] for i in fits] == [
        reference_cost(top if numbers[i] == "1" else Decimal("0.1"), durations[i], 6) for i in fits
    ]
    with pytest.raises(CostOverflowError) as raised:  # without keep_overflow: the first one
        engine.rate(parse_numbers(pl.Series(numbers)), np.array(durations), at=epoch_us(T0))
    assert str(raised.value) == reason


@pytest.mark.parametrize(
    ("price", "increments", "decimals"),
    [
        (Decimal("0.12345678"), (1, 1), 6),
        (Decimal("59995.20000001"), (86400, 86400), 6),  # just fits DECIMAL(18, 6)
        (Decimal("599.95200001"), (86400, 86400), 8),  # just fits DECIMAL(18, 8)
        (Decimal("-59995.20000001"), (60, 60), 6),
    ],
)
def test_the_longest_call_costs_exactly(price, increments, decimals):
    """MAX_CALL_SECONDS billed in increments of a day (the largest a deck holds): price x
    billed leaves int64, and the cost is still the reference's, never a wrapped integer."""
    deck = [Version("1", "x", price, *increments)]
    got = _rate(deck, ["1"], [MAX_CALL_SECONDS], [T0], decimals=decimals)
    billed = reference_billed(MAX_CALL_SECONDS, *increments)
    assert got["billed_seconds"].to_list() == [billed]
    assert got["cost"].to_list() == [reference_cost(price, billed, decimals)]


@pytest.mark.parametrize("price", [Decimal("59995.25"), Decimal("9999999999.99999999")])
def test_the_longest_call_too_dear_for_decimal_18_is_an_error(price):
    deck = [Version("1", "x", price, 86400, 86400)]
    with pytest.raises(CostOverflowError, match="more than DECIMAL"):
        _rate(deck, ["1"], [MAX_CALL_SECONDS], [T0])


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("prefix", "44a", "bad prefix"),
        ("increment_seconds", 0, "increments"),
        ("initial_seconds", -1, "increments"),
    ],
)
def test_bad_decks_are_refused(column, value, message):
    frame = deck_frame([Version("44", "UK", Decimal("1"), *INCREMENTS[0])]).with_columns(
        pl.lit(value).alias(column)
    )
    with pytest.raises(DeckError, match=message):
        LpmEngine(frame)
