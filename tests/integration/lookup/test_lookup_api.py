"""lookup_number and cost_calls against a real warehouse file (read-only connection)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest
from support.lookup_reference import Version, reference_billed, reference_cost, reference_match
from support.lookup_warehouse import JAN, JUN, STANDARD_HISTORY

from pipeline.analytics.lookup import (
    OUTPUT_COLUMNS,
    CallsInputError,
    UnknownTechPrefixError,
    cheapest,
    cost_calls,
    lookup_number,
)
from pipeline.analytics.numbers import BadNumberError
from pipeline.clock import EARLIEST, LATEST
from pipeline.errors import InputError

MARCH = datetime(2026, 3, 1, tzinfo=UTC)
LATER = datetime(2026, 8, 1, tzinfo=UTC)


def test_lookup_every_tech_prefix_and_the_cheapest(con):
    results = lookup_number(con, "+44 20 1234 5678", duration_s=61, at=MARCH)
    assert [
        (r.tech_prefix, r.matched_prefix, r.price, r.billed_seconds, r.cost) for r in results
    ] == [
        ("current", "4420", Decimal("0.20000000"), 120, Decimal("0.400000")),
        ("021001", "4420", Decimal("0.30000000"), 61, Decimal("0.305000")),
    ]
    assert results[0].number == "442012345678"
    assert (results[0].initial_seconds, results[0].increment_seconds) == (60, 60)
    assert results[0].valid_to == JUN
    assert cheapest(results).tech_prefix == "021001"


def test_lookup_as_of_a_change_and_a_removed_prefix(con):
    before = lookup_number(con, "4420", tech_prefixes=["current"], duration_s=60, at=MARCH)
    after = lookup_number(con, "4420", tech_prefixes=["current"], duration_s=60, at=JUN)
    assert (before[0].price, after[0].price) == (Decimal("0.2"), Decimal("0.25"))
    gone = lookup_number(con, "4491", tech_prefixes=["current"], duration_s=60, at=LATER)
    assert (gone[0].matched_prefix, gone[0].destination) == ("44", "UK")


def test_unmatched_is_flagged_and_has_no_cheapest(con):
    results = lookup_number(con, "33 1", duration_s=60, at=MARCH)
    assert [r.matched for r in results] == [False, False]
    assert all(r.cost is None and r.matched_prefix is None for r in results)
    assert cheapest(results) is None
    before_any = lookup_number(con, "44", duration_s=60, at=JAN - timedelta(seconds=1))
    assert [r.matched for r in before_any] == [False, False]


def test_zero_second_call_costs_nothing(con):
    result = lookup_number(con, "44", tech_prefixes=["021001"], duration_s=0, at=MARCH)[0]
    assert (result.billed_seconds, result.cost) == (0, Decimal("0.000000"))


def test_lookup_refuses_letters_and_unknown_tech_prefixes(con):
    with pytest.raises(BadNumberError, match="bad number '44-ABC': letters"):
        lookup_number(con, "44-ABC", duration_s=60)
    with pytest.raises(UnknownTechPrefixError, match="'999'.*current, 021001"):
        lookup_number(con, "44", tech_prefixes=["999"], duration_s=60)


def test_empty_warehouse_says_so(scratch):
    with pytest.raises(UnknownTechPrefixError, match="no voice rates yet"):
        lookup_number(scratch, "44", duration_s=60)


def _calls() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "number": ["4420 1", "4420 1", "33", "44", "44x", "44", "4491", "4491"],
            "duration": ["61", "61", "5", "0", "5", "-3", "1", "1"],
            "started_at": [
                "2026-03-01",
                "2026-07-01T00:00:00Z",
                None,
                "2026-06-01 00:00",
                "2026-03-01",
                "2026-03-01",
                "2026-05-31T23:59:59.999999+00:00",
                "2026-06-01T02:00:00+02:00",  # = June 1st 00:00 UTC: after the removal
            ],
            "note": [f"call {i}" for i in range(8)],
        }
    )


def test_cost_calls_rates_each_call_as_of_its_start(con):
    result = cost_calls(con, _calls(), now=LATER)
    frame = result.frame
    assert frame.columns == ["number", "duration", "started_at", "note", *OUTPUT_COLUMNS]
    assert frame.height == 6 * 2  # 6 good calls x 2 tech prefixes, call by call
    assert frame["note"].to_list()[::2] == [
        "call 0",
        "call 1",
        "call 2",
        "call 3",
        "call 6",
        "call 7",
    ]
    assert frame["tech_prefix"].to_list() == ["current", "021001"] * 6
    current = frame.filter(pl.col("tech_prefix") == "current")
    assert current["matched_prefix"].to_list() == ["4420", "4420", None, "44", "449", "44"]
    assert current["price"].to_list() == [
        Decimal("0.2"),
        Decimal("0.25"),
        None,
        Decimal("0.1"),
        Decimal("0.9"),
        Decimal("0.1"),
    ]
    assert current["cost"].to_list() == [
        Decimal("0.400000"),
        Decimal("0.500000"),
        None,
        Decimal("0.000000"),
        Decimal("0.015000"),
        Decimal("0.001667"),
    ]
    assert current["billed_seconds"].to_list() == [120, 120, None, 0, 1, 1]


def test_cost_calls_sets_bad_rows_aside_with_reasons(con):
    bad = cost_calls(con, _calls(), now=LATER).bad_rows
    assert bad["row"].to_list() == [5, 6]
    assert bad["reason"].to_list() == [
        "bad number '44x': letters are not allowed",
        "negative duration -3",
    ]
    assert bad.columns == ["row", "number", "duration", "started_at", "note", "reason"]


def test_cost_calls_summary_and_cheapest_mix(con):
    summary = cost_calls(con, _calls(), now=LATER).summary
    assert (summary.calls, summary.bad_rows) == (6, 2)
    current, other = summary.per_tech_prefix
    assert (current.matched, current.unmatched, current.cost) == (5, 1, Decimal("0.916667"))
    # 021001: 4420 at 0.3 1/1 (61 s = 0.305 twice), 44 at 0.12345678 60/1 (0 s, 1 s -> 60 s x2)
    assert (other.matched, other.unmatched, other.billed_seconds) == (5, 1, 242)
    assert other.cost == Decimal("0.305000") * 2 + Decimal("0.123457") * 2
    mix = summary.cheapest
    # per call: 0.305 < 0.4, 0.305 < 0.5, -, 0 = 0 (first wins), 0.015 < 0.123457, 0.001667
    assert mix.cost == Decimal("0.305000") * 2 + Decimal("0.015000") + Decimal("0.001667")
    assert (mix.matched, mix.unmatched) == (5, 1)
    assert mix.chosen == {"current": 3, "021001": 2}


def test_calls_without_start_time_are_rated_now(con):
    calls = pl.DataFrame({"number": ["44201"], "duration": [60]})
    frame = cost_calls(con, calls, tech_prefixes=["current"], now=MARCH).frame
    assert frame["price"].to_list() == [Decimal("0.2")]
    frame = cost_calls(con, calls, tech_prefixes=["current"]).frame  # really now
    assert frame["price"].to_list() == [Decimal("0.25")]


def test_typed_input_columns(con):
    calls = pl.DataFrame(
        {
            "number": [4420123, 449],
            "duration": [61.0, 2.5],
            "started_at": pl.Series([MARCH, None], dtype=pl.Datetime("ms", "Europe/Paris")),
        }
    )
    result = cost_calls(con, calls, tech_prefixes=["current"], now=MARCH)
    assert result.frame["cost"].to_list() == [Decimal("0.400000")]
    assert result.bad_rows["reason"].to_list() == ["duration 2.5 is not a whole number of seconds"]


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"number": ["44"]}, "missing: duration"),
        ({"number": ["44"], "duration": [1], "cost": [1]}, "'cost' clashes"),
    ],
)
def test_unusable_call_frames(con, columns, message):
    with pytest.raises(CallsInputError, match=message):
        cost_calls(con, pl.DataFrame(columns))


def test_bad_timestamps_are_bad_rows(con):
    calls = pl.DataFrame(
        {"number": ["44", "44"], "duration": ["1", "1"], "started_at": ["soon", ""]}
    )
    result = cost_calls(con, calls, tech_prefixes=["current"], now=MARCH)
    assert result.bad_rows["reason"].to_list() == ["bad started_at soon"]
    assert result.frame.height == 1  # the empty one is "no start time": rated now


OUT_OF_RANGE = "is out of range: moments from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z are supported"


def _reference_costs(calls: pl.DataFrame, moments: list[datetime], tech_prefix: str) -> list:
    """Each call's cost under ``tech_prefix``, brute force over STANDARD_HISTORY (None: no match)."""
    versions = [
        Version(p, d, Decimal(price), a, b, f, t)
        for tp, p, d, price, a, b, f, t in STANDARD_HISTORY
        if tp == tech_prefix
    ]
    costs = []
    for number, seconds, at in zip(calls["number"], calls["duration"], moments, strict=True):
        match = reference_match(versions, number, at)
        billed = reference_billed(seconds, match.initial, match.increment) if match else None
        costs.append(reference_cost(match.price, billed, 6) if match else None)
    return costs


def test_a_start_time_out_of_range_is_a_bad_row_and_the_others_cost_as_the_reference(con):
    calls = pl.DataFrame(
        {
            "number": ["4420123", "4420123", "442079555", "449", "4420123", "441"],
            "duration": [61, 61, 95, 7, 3600, 1],
            "started_at": [
                "2026-03-01T00:00:00Z",
                "0001-01-01T00:00:00+05:00",  # year 0 in UTC: the whole file used to abort
                "0001-01-01T00:00:00Z",  # the first moment: before history, unmatched
                "9999-12-31T23:59:59-05:00",  # year 10000 in UTC
                "9999-12-31T23:59:59.999999Z",  # the last moment
                "2026-07-01 12:00",
            ],
        }
    )
    result = cost_calls(con, calls, now=LATER)
    assert result.bad_rows.select("row", "reason").rows() == [
        (2, f"started_at 0001-01-01T00:00:00+05:00 {OUT_OF_RANGE}"),
        (4, f"started_at 9999-12-31T23:59:59-05:00 {OUT_OF_RANGE}"),
    ]
    good = calls[[0, 2, 4, 5]]
    moments = [MARCH, EARLIEST, LATEST, datetime(2026, 7, 1, 12, tzinfo=UTC)]
    for tech_prefix in ("current", "021001"):
        costed = result.frame.filter(pl.col("tech_prefix") == tech_prefix)
        assert costed["cost"].to_list() == _reference_costs(good, moments, tech_prefix)
    assert (
        result.frame["cost"].to_list() == cost_calls(con, good, now=LATER).frame["cost"].to_list()
    )


def test_a_typed_start_time_out_of_range_is_a_bad_row(con):
    started = pl.Series(["0000-12-31 19:00:00", "2026-03-01 00:00:00"]).str.to_datetime()
    calls = pl.DataFrame({"number": ["4420123"] * 2, "duration": [61] * 2, "started_at": started})
    result = cost_calls(con, calls, tech_prefixes=["current"], now=LATER)
    assert result.bad_rows.select("row", "reason").rows() == [
        (1, f"started_at 0000-12-31 19:00:00.000000 {OUT_OF_RANGE}")
    ]
    assert result.frame["cost"].to_list() == [Decimal("0.400000")]


def test_lookup_refuses_a_call_longer_than_cost_takes(con):
    with pytest.raises(InputError) as refused:
        lookup_number(con, "4420123", duration_s=1_000_000_000)
    assert str(refused.value) == "duration 1000000000 is too large: at most 999,999,999 seconds"
    [result] = lookup_number(con, "4420123", duration_s=999_999_999, tech_prefixes=["current"])
    assert result.billed_seconds == 1_000_000_020
