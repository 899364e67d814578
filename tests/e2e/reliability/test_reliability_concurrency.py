"""Concurrency: an analyst keeps a read-only DuckDB connection on data/warehouse.duckdb open (in
another process) for the whole of several runs, and two ``ratedeck run`` start at once. No run
fails, nothing is lost (every snapshot of every run is there, in fetch order), nothing is
doubled (no duplicate rate version, one report for the day's changes), and the analyst's
connection keeps answering throughout."""

from __future__ import annotations

import subprocess
import sys

import dagster as dg
import pytest
from support.reliability import TECH_PREFIX, query
from support.reliability_cli import write_config

from pipeline.orchestrate import prepare_dagster_home, run_pipeline
from pipeline.settings import load_settings

pytestmark = pytest.mark.slow  # two `ratedeck run`s at once

TECH_PREFIXES = [TECH_PREFIX, "021002"]
ANALYST = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
ask = lambda: con.execute("SELECT count(*) FROM voice_snapshot").fetchall()[0][0]
print(ask(), flush=True)
for _ in sys.stdin:
    print(ask(), flush=True)
"""


class Analyst:
    def __init__(self, path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", ANALYST, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.first = int(self.process.stdout.readline())

    def ask(self) -> int:
        self.process.stdin.write("again\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def close(self) -> int:
        self.process.stdin.close()
        self.process.stdout.close()
        return self.process.wait(timeout=30)


def test_two_runs_at_once_while_an_analyst_reads(cli, emulator):
    write_config(cli.config, TECH_PREFIXES)
    settings = load_settings(cli.config, cli.env)
    instance = dg.DagsterInstance.from_config(str(prepare_dagster_home(settings)))
    assert run_pipeline(settings, ["voice", "balance"], instance=instance).ok  # run 1
    analyst = Analyst(settings.warehouse_path)
    try:
        assert analyst.first == 2
        emulator.advance_day()  # price changes for runs 2 and 3 to find (and report once)

        runs = [cli.start("run") for _ in range(2)]  # runs 2 and 3, at once
        outputs = [run.communicate(timeout=300) for run in runs]

        for run, (_stdout, stderr) in zip(runs, outputs, strict=True):
            assert run.returncode == 0, stderr
            assert "Traceback" not in stderr
        assert analyst.ask() == 2  # still open, still the warehouse as it was when opened
        summary = run_pipeline(settings, ["voice", "balance"], instance=instance)  # run 4
        assert summary.ok, [s.error for s in summary.failures]
        assert analyst.ask() == 2
    finally:
        assert analyst.close() == 0

    path = settings.warehouse_path
    snapshots = query(
        path,
        "SELECT tech_prefix, count(*), count(DISTINCT fetched_at), count(DISTINCT snapshot_id) "
        "FROM wh.voice_snapshot GROUP BY 1 ORDER BY 1",
    )
    assert snapshots == [(tp, 4, 4, 4) for tp in TECH_PREFIXES]
    assert query(path, "SELECT count(*) FROM wh.balance_snapshot") == [(4,)]
    duplicates = query(
        path,
        "SELECT count(*) FROM (SELECT tech_prefix, prefix, valid_from FROM wh.voice_rate "
        "GROUP BY ALL HAVING count(*) > 1)",
    )
    assert duplicates == [(0,)]
    current = query(
        path,
        "SELECT count(*), count(DISTINCT (tech_prefix, prefix, effective_at)) "
        "FROM wh.voice_rate_current",
    )
    assert current[0][0] == current[0][1] > 0
    reports = query(path, "SELECT status, change_count FROM wh.report_log")
    assert len(reports) == 1 and reports[0][0] == "outboxed" and reports[0][1] > 0
    reported = query(path, "SELECT count(*), count(DISTINCT change_id) FROM wh.report_change")
    assert reported == [(reports[0][1], reports[0][1])]
    assert len(list(settings.outbox_dir.glob("*.eml"))) == 1
