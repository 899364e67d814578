"""A real ``ratedeck run`` killed with SIGKILL in the middle of its load (stalled there by a
test-only driver): the published warehouse is exactly as before, and the next run succeeds
instead of waiting for ever on the dead run's Dagster pool slot; the dead run is marked failed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import pytest
from support.reliability import TECH_PREFIX, dump_both, dump_warehouse, snapshot_count

from pipeline.orchestrate import prepare_dagster_home, run_pipeline
from pipeline.settings import load_settings

pytestmark = pytest.mark.slow  # `ratedeck run` killed and run again

DRIVER = Path(__file__).with_name("reliability_cli_crash_driver.py")
NEXT_RUN_TIMEOUT_S = 180


def run_with_watchdog(settings, instance):
    """run_pipeline in a thread: a hang (the bug this guards against) fails, not blocks, CI."""
    outcome: dict = {}
    worker = threading.Thread(
        target=lambda: outcome.update(summary=run_pipeline(settings, ["voice"], instance=instance)),
        daemon=True,
    )
    worker.start()
    worker.join(NEXT_RUN_TIMEOUT_S)
    assert not worker.is_alive(), "the run after the crash hung"
    return outcome["summary"]


def test_sigkilled_cli_run_changes_nothing_and_the_next_run_succeeds(cli, emulator, tmp_path):
    settings = load_settings(cli.config, cli.env)
    instance = dg.DagsterInstance.from_config(str(prepare_dagster_home(settings)))
    assert run_with_watchdog(settings, instance).ok  # the baseline, in the CLI's instance
    before = dump_both(settings)
    emulator.advance_day()

    ready = tmp_path / "stalled"
    child = subprocess.Popen(
        [sys.executable, str(DRIVER), str(ready), *cli.command("run", "--select", "voice")[1:]],
        env=cli.env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 240
        while not ready.exists():
            assert child.poll() is None, f"ratedeck ended before the stall ({child.returncode})"
            assert time.monotonic() < deadline, "ratedeck never reached the load"
            time.sleep(0.05)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()

    assert dump_warehouse(settings.warehouse_path) == before[0]
    dead = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    assert len(dead) == 1  # the killed run, as Dagster last heard of it

    summary = run_with_watchdog(settings, instance)

    assert summary.ok, [s.error for s in summary.failures]
    assert snapshot_count(settings, TECH_PREFIX) == 2
    assert instance.get_run_by_id(dead[0].run_id).status == dg.DagsterRunStatus.FAILURE
