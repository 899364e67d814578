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
