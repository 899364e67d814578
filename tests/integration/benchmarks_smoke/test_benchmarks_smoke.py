"""The benchmarks still run: bench_ingest at tiny sizes prints its tables, and the runner
(``python -m benchmarks``) finds a ``main`` in every ``benchmarks/bench_*.py``.

No timing is asserted: figures depend on the machine; only the report's shape and the
non-timing facts in it (row counts, rejects, formats agreeing, a verdict per goal).
"""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

from benchmarks import bench_ingest
from benchmarks.__main__ import arguments_for, discover, resolve
from benchmarks.__main__ import main as run_benchmarks

ROWS = 1000


@pytest.fixture(scope="module")
def ingest_report() -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = bench_ingest.main(
            ["--rows", str(ROWS), "--repeat", "1", "--history-rows", "200", "--days", "3"]
        )
    assert code == 0
    return out.getvalue()


def _table_row(report: str, label: str) -> list[str]:
    rows = [line.split() for line in report.splitlines() if line.split()[:1] == [label]]
    assert len(rows) == 1, f"expected one table row {label!r} in:\n{report}"
    return rows[0]


@pytest.mark.parametrize("fmt", ["csv", "xls", "xlsx"])
def test_bench_ingest_has_a_row_per_format(ingest_report, fmt):
    # format, MB, sheets, rows, rejects, normalise, load, total, normalise/raw, total/raw, same
    cells = _table_row(ingest_report, fmt)
    assert len(cells) == 11
    assert cells[2:5] == ["1", str(ROWS), "0"]
    assert cells[8].endswith("x") and cells[9].endswith("x")
    assert cells[10] == "yes"  # every format normalises to the CSV's rows


def test_bench_ingest_prints_baseline_and_header(ingest_report):
    lines = ingest_report.splitlines()
    assert lines[0].startswith(f"bench_ingest: {ROWS}-prefix emulator deck")
    assert "load average" in lines[0]
    header = next(line for line in lines if line.startswith("format"))
    for column in ("normalise ms", "load ms", "normalise/raw", "total/raw"):
        assert column in header
    baseline = next(line for line in lines if line.startswith("raw polars.read_csv"))
    assert "1.0x" in baseline
    assert lines[-1].startswith("after: load average")


def test_bench_ingest_gives_a_verdict_per_goal(ingest_report):
    goals = {
        r"CSV ingest \(normalise\) vs raw parse": r"\d+\.\dx",
        r"changed \d+-row deck, CSV bytes -> history": r"\d+\.\d{3} s",
        r"3 days: stored / \(deck \+ changes\)": r"\d+\.\d\dx",
    }
    for label, measured in goals.items():
        pattern = rf"^{label}\s+{measured}\s+<=? [0-9.]+ ?[sx]\s+(PASS|MISS)(\s+{measured})?$"
        assert re.search(pattern, ingest_report, re.MULTILINE), f"{label}\n{ingest_report}"
    assert f"the goals are set for a 100000-prefix deck; this one has {ROWS}" in ingest_report


def test_bench_ingest_history_counts_add_up(ingest_report):
    found = re.search(
        r"history: 3 market days of a (\d+)-prefix emulator deck: (\d+) changes .* -> "
        r"(\d+) rows stored vs deck \+ changes = (\d+)",
        ingest_report,
    )
    assert found, ingest_report
    deck, changes, stored, total = map(int, found.groups())
    assert deck == 200 and total == deck + changes
    assert deck <= stored <= total  # removals close a version, they add none


def test_bench_ingest_refuses_bad_options(capsys):
    with pytest.raises(SystemExit) as exited:
        bench_ingest.main(["--formats", "csv,pdf"])
    assert exited.value.code == 2
    assert "unknown format(s) pdf" in capsys.readouterr().err


def test_every_benchmark_module_has_a_main():
    names = discover()
    assert "bench_ingest" in names and "bench_history" in names
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        entry = getattr(module, "main", None)
        assert callable(entry), f"benchmarks/{name}.py has no main(argv)"
        assert list(inspect.signature(entry).parameters)[:1] == ["argv"], name


def test_runner_picks_modules_and_quick_flags():
    available = discover()
    assert resolve([], available) == available
    assert resolve(["ingest", "bench_ingest"], available) == ["bench_ingest"]
    with pytest.raises(ValueError, match="unknown benchmark"):
        resolve(["nope"], available)
    assert arguments_for(bench_ingest, quick=True) == ["--quick"]
    assert arguments_for(bench_ingest, quick=False) == []


def test_runner_lists_and_refuses_unknown_names(capsys):
    assert run_benchmarks(["--list"]) == 0
    assert capsys.readouterr().out.split() == discover()
    with pytest.raises(SystemExit) as exited:
        run_benchmarks(["no_such_bench"])
    assert exited.value.code == 2


@pytest.mark.slow
def test_bench_cost_runs_the_three_contenders_and_they_agree(capsys):
    """Tiny sizes: ratedeck, the SQL peer and the dict reference, each a process, agree on
    every row and total (the benchmark exits otherwise) and a verdict is printed per goal;
    the writer floor rewrites ratedeck's rows (checked) and bounds the ratio."""
    from benchmarks import bench_cost

    assert bench_cost.main(["--calls", "3000", "--prefixes", "300", "--repeat", "1"]) == 0
    report = capsys.readouterr().out
    agreed = re.search(r"same rows and totals: 3,000 calls, ([\d,]+) matched", report)
    assert agreed and 0 < int(agreed[1].replace(",", "")) <= 3000
    for label in ("ratedeck cost", "duckdb sql peer", "python dict reference", "writer floor"):
        assert any(line.startswith(label) for line in report.splitlines())
    # the first run (it builds the engine cache) is reported apart, with its own ratio
    assert re.search(r"ratedeck cost, 1st run .*no engine cache yet", report)
    assert re.search(r"1st run vs SQL peer +[\d.]+x .* (PASS|MISS)", report)
    assert re.search(r"ratedeck vs SQL peer +[\d.]+x .* (PASS|MISS)", report)
    assert re.search(r"ratedeck vs dict reference +[\d.]+x .* (PASS|MISS)", report)
    assert re.search(
        r"ceiling: SQL peer / writer floor +[\d.]+x .* takes [\d.]+x the floor", report
    )


@pytest.mark.slow
def test_bench_cost_stream_costs_every_call_and_measures_the_writer_floor(capsys):
    """Tiny sizes, Parquet in and out: every call written once, a verdict per goal, and the
    writer floor rewriting ratedeck's rows (the benchmark exits when they differ)."""
    from benchmarks import bench_cost

    assert bench_cost.main(["--stream", "--calls", "3000", "--prefixes", "300"]) == 0
    report = capsys.readouterr().out
    assert re.search(r"ratedeck cost .*\(([\d,]+) matched\)", report)
    assert re.search(r"peak RSS [\d,]+ MB \(goal <= 1024 MB at 100M calls\) +(PASS|MISS)", report)
    assert re.search(r"rate [\d.]+ M calls/s \(goal >= 5 M on 2 cores\) +(PASS|MISS)", report)
    assert re.search(r"^writer floor .*no costing", report, re.MULTILINE)
    assert re.search(r"ceiling: the floor's rate [\d.]+ M calls/s; ratedeck takes [\d.]+x", report)


@pytest.mark.slow  # worker processes, each loading the code location and Dagster
def test_bench_backfill_recosts_every_day_to_the_same_rows(capsys):
    """Tiny sizes: the first costing, one sequential and one 2-worker backfill each cost
    every day (the benchmark stops otherwise) and leave the first costing's rows."""
    from benchmarks import bench_backfill

    assert bench_backfill.main(["--quick"]) == 0
    report = capsys.readouterr().out
    rows = [line.split() for line in report.splitlines() if line.startswith(("first", "recost"))]
    assert [(r[0], r[-1]) for r in rows] == [("first", "yes"), ("recost", "yes"), ("recost", "yes")]
    assert [r[2] for r in rows] == ["1", "1", "2"]  # workers
    assert re.search(r"speed-up of 2 workers: [\d.]+x", report)
    assert re.search(r"projected year \(365 days\) at 5,000 calls/day", report)
    assert "load average" in report.splitlines()[0]


def test_bench_cdr_import_adds_the_same_calls_with_and_without_a_history(capsys):
    """Tiny sizes: the file imports into an empty warehouse and into one with a history
    (the benchmark stops if they add different calls), and today's rule and its global peer
    add the same calls (checked likewise); a ratio is printed for each."""
    from benchmarks import bench_cdr_import

    assert bench_cdr_import.main(["--quick"]) == 0
    report = capsys.readouterr().out
    assert "load average" in report.splitlines()[0]
    assert re.search(r"^first day \(nothing stored\) +[\d.]+ s +[\d.]+ s$", report, re.MULTILINE)
    assert re.search(r"^after 15,000 calls +[\d.]+ s +[\d.]+ s$", report, re.MULTILINE)
    assert re.search(r"[\d.]+x end to end, [\d.]+x load \(5,000 calls added each time\)", report)
    assert re.search(r"global / file's days: [\d.]+x", report)


def test_bench_reconcile_reads_the_same_disputes_both_ways(capsys):
    """Tiny sizes: the macro and the filtered view give the same disputes (the benchmark
    stops otherwise): 10 calls the carrier skipped and 5 it billed at another rate."""
    from benchmarks import bench_reconcile

    assert bench_reconcile.main(["--quick"]) == 0
    report = capsys.readouterr().out
    assert "load average" in report.splitlines()[0]
    assert "15 disputed calls on 2026-11-04" in report
    assert re.search(r"peer / reconcile_calls: [\d.]+x", report)
    for query in bench_reconcile.DAILY_QUERIES:  # every one ran, on every day's rows
        assert re.search(rf"  {query} +[\d.]+ s +[\d.]+ ms per stored day", report)
