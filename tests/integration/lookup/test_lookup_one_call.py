"""One call (``lookup_number``, answered by the warehouse's macros) costs what the engine
(``cost_calls``) costs, at every number of cost decimals; and ``ratedeck lookup`` loads
neither polars, numpy nor pyarrow."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import polars as pl
import pytest

from pipeline.analytics.lookup import cost_calls, lookup_number

MARCH = datetime(2026, 3, 1, tzinfo=UTC)
NUMBERS = ["+44 20 1234 5678", "4479 1234", "33 1 2345", "1 555 0100"]
HEAVY = ("polars", "numpy", "pyarrow", "dagster", "pipeline.analytics._engine")


@pytest.mark.parametrize("decimals", [0, 2, 6, 8])
@pytest.mark.parametrize("seconds", [0, 1, 61, 185, 3601])
def test_one_call_costs_what_the_engine_costs(con, decimals, seconds):
    calls = pl.DataFrame({"number": NUMBERS, "duration": [seconds] * len(NUMBERS)})
    engine = cost_calls(con, calls, cost_decimals=decimals, now=MARCH).frame
    for number in NUMBERS:
        expected = engine.filter(pl.col("number") == number).select(
            "tech_prefix", "matched_prefix", "price", "billed_seconds", "cost"
        )
        one = lookup_number(con, number, duration_s=seconds, at=MARCH, cost_decimals=decimals)
        got = [(r.tech_prefix, r.matched_prefix, r.price, r.billed_seconds, r.cost) for r in one]
        assert got == expected.rows(), number
        assert all(r.cost is None or -r.cost.as_tuple().exponent == decimals for r in one)


def test_lookup_command_loads_no_dataframe_library():
    probe = (
        "import sys; from pipeline.cli import build_parser; from pipeline.commands import lookup; "
        "import pipeline.analytics.one_call, pipeline.warehouse.db; "
        "build_parser(['lookup', '123']); "
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]"]
