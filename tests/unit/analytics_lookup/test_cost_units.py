"""``cost_units_or_overflow``: every cost exact (int64 where it can be, Python ints only for
the calls at risk), and a cost beyond DECIMAL(18, decimals) set aside with its reason, never
a wrong number."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.lookup_reference import reference_cost

from pipeline.analytics import CostOverflowError, cost_units
from pipeline.analytics._money import cost_units_or_overflow

PRICE_UNITS = st.integers(-(10**18) + 1, 10**18 - 1)  # DECIMAL(18, 8)
BILLED = st.integers(0, 999_999_999 + 86_400)  # the longest call, a day's increment
SMALL = st.tuples(st.integers(-(10**9), 10**9), st.integers(0, 10**5))


def _reference_units(price_units: int, billed: int, decimals: int) -> int | None:
    cost = reference_cost(Decimal(price_units).scaleb(-8), billed, decimals)
    units = int(cost.scaleb(decimals))
    return units if abs(units) < 10**18 else None


@given(
    st.lists(st.one_of(st.tuples(PRICE_UNITS, BILLED), SMALL), min_size=1, max_size=40),
    st.integers(0, 8),
)
def test_every_cost_is_the_reference_or_set_aside(calls, decimals):
    prices = np.array([p for p, _ in calls], dtype=np.int64)
    billed = np.array([b for _, b in calls], dtype=np.int64)
    cost, overflow = cost_units_or_overflow(prices, billed, decimals)
    for position, (price, seconds) in enumerate(calls):
        expected = _reference_units(price, seconds, decimals)
        if expected is None:
            assert "more than DECIMAL" in overflow[position]
        else:
            assert position not in overflow
            assert int(cost[position]) == expected


def test_the_reason_names_the_call_and_the_first_one_is_raised():
    prices = np.array([10, 10**18 - 1, 5 * 10**17], dtype=np.int64)
    billed = np.array([60, 10**9, 10**9], dtype=np.int64)
    cost, overflow = cost_units_or_overflow(prices, billed, 6)
    assert int(cost[0]) == 0  # 1e-7 per minute for a minute: rounds to 0 units of 1e-6
    reason = (
        "a call of 1000000000 billed seconds at 9999999999.99999999 per minute costs more "
        "than DECIMAL(18, 6) can hold"
    )
    assert overflow == {
        1: reason,
        2: "a call of 1000000000 billed seconds at 5000000000.00000000 per minute costs more "
        "than DECIMAL(18, 6) can hold",
    }
    with pytest.raises(CostOverflowError) as raised:
        cost_units(prices, billed, 6)
    assert str(raised.value) == reason
