"""bench_cdr_ingest still runs: at a tiny size it prints a row per format, the old and the new
ingest agree (same calls, same rejects), and the runner finds it and passes it --quick. No
timing is asserted."""

from __future__ import annotations

from benchmarks import bench_cdr_ingest
from benchmarks.__main__ import arguments_for, discover


def test_bench_cdr_ingest_agrees_on_every_format(capsys):
    code = bench_cdr_ingest.main(["--rows", "500", "--repeat", "1", "--bad-fraction", "0.1"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0].startswith("bench_cdr_ingest: 500 calls per file")
    assert "load average" in out.splitlines()[0]
    for fmt in bench_cdr_ingest.FORMATS:
        row = next(line.split() for line in out.splitlines() if line.startswith(f"{fmt} "))
        calls, rejects = int(row[2]), int(row[3])
        assert calls + rejects == 500 and 0 < rejects < 150
        assert row[-1] == "yes"  # the vectorised ingest equals the row-by-row one
        assert row[7].endswith("x")


def test_the_runner_finds_it_and_passes_quick():
    assert "bench_cdr_ingest" in discover()
    assert arguments_for(bench_cdr_ingest, quick=True) == ["--quick"]
