"""``exact_sum``: totals of int64 cost units across batches never wrap around."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from pipeline.analytics.costing import exact_sum

INT64 = st.integers(-(2**63), 2**63 - 1)


@given(st.lists(INT64, max_size=50))
def test_exact_sum_is_the_integer_sum(values):
    assert exact_sum(np.array(values, dtype=np.int64)) == sum(values)


def test_a_sum_beyond_int64_is_exact():
    values = np.full(1000, 2**62, dtype=np.int64)
    assert int(values.sum()) != 1000 * 2**62  # numpy wraps around
    assert exact_sum(values) == 1000 * 2**62


@given(st.lists(st.tuples(INT64, st.booleans()), max_size=50))
def test_exact_sum_where_sums_only_the_values_kept(pairs):
    values = np.array([v for v, _ in pairs], dtype=np.int64)
    keep = np.array([k for _, k in pairs], dtype=bool)
    assert exact_sum(values, keep) == sum(v for v, k in pairs if k)


def test_the_quick_sum_is_taken_only_when_it_cannot_wrap():
    near = np.array([2**62, 2**62 - 1, -(2**62)], dtype=np.int64)
    assert exact_sum(near) == 2**63 - 1 - 2**62  # three values of 2**62: 3 x 2**62 > 2**63
    assert exact_sum(near, np.array([True, True, False])) == 2**63 - 1
    assert exact_sum(np.array([-(2**63)], dtype=np.int64)) == -(2**63)
