"""The LPM benchmark runs (tiny sizes): it checks the engine against the dict LPM and DuckDB."""

from __future__ import annotations

import polars as pl

from benchmarks import bench_lpm


def test_benchmark_smoke(capsys):
    code = bench_lpm.main(
        [
            "--calls", "3000", "--prefixes", "400", "--repeat", "1",
            "--python-sample", "500", "--duckdb-calls", "0",
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    for line in ("engine end to end", "python dict LPM", "duckdb naive join", "peak RSS", "goal:"):
        assert line in out


def test_generated_deck_is_nested_and_exact():
    deck = bench_lpm.make_deck(300, seed=3)
    prefixes = set(deck["prefix"].to_list())
    assert len(prefixes) == deck.height == 300
    nested = sum(any(p[:k] in prefixes for k in range(1, len(p))) for p in prefixes)
    assert nested > 200
    assert deck.schema["price"] == pl.Decimal(18, 8)
