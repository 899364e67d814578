"""The LPM benchmark runs (tiny sizes): it checks the engine against the dict LPM and DuckDB."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "benchmarks" / "bench_lpm.py"


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_lpm_smoke", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_smoke(capsys):
    bench = _bench_module()
    code = bench.main(
        [
            "--calls",
            "3000",
            "--prefixes",
            "400",
            "--repeat",
            "1",
            "--python-sample",
            "500",
            "--duckdb-calls",
            "0",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "engine end to end" in out and "python dict LPM" in out and "duckdb naive join" in out


def test_generated_deck_is_nested_and_exact():
    bench = _bench_module()
    deck = bench.make_deck(300, seed=3)
    prefixes = set(deck["prefix"].to_list())
    assert len(prefixes) == deck.height == 300
    nested = sum(any(p[:k] in prefixes for k in range(1, len(p))) for p in prefixes)
    assert nested > 200
    assert str(deck["price"].dtype) == "Decimal(precision=18, scale=8)"
