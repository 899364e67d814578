"""Ctrl-C during ``ratedeck run`` stops the run: the step under way fails, no later step runs
(no report is mailed), nothing is published, and the command says ``interrupted`` and exits
130, as the other commands do. The next run picks up from there.

The run is stalled by the test-only driver of the SIGKILL test (inside its voice load, while
Dagster sets up the run's resources, or as it records the run's success), then its process group
gets SIGINT, as a terminal's Ctrl-C sends it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.reliability import dump_warehouse

from pipeline.settings import load_settings

pytestmark = pytest.mark.slow  # two `ratedeck run`s against the emulator

DRIVER = Path(__file__).with_name("reliability_cli_crash_driver.py")
STALL_TIMEOUT_S = 240


# where the run is when Ctrl-C comes: inside a step; inside Dagster before the first step
# (Dagster then fails the run, not a step, with its interruption error); as Dagster records
# the run's success (Dagster holds the Ctrl-C back and then drops it: the run succeeds)
@pytest.mark.parametrize(
    "stall",
    [[], ["--at=resources"], ["--at=run-success"]],
    ids=["in-a-step", "run-setup", "run-success"],
)
def test_ctrl_c_stops_the_run_before_the_report_and_publishes_nothing(
    cli, emulator, tmp_path, stall
):
    settings = load_settings(cli.config, cli.env)
    first = cli.run("run", "--select", "voice")  # a published warehouse to compare with
    assert first.returncode == 0, first.stderr
    before = dump_warehouse(settings.warehouse_path)
    emulator.advance_day()  # a new deck: the run has changes to report

    ready = tmp_path / "stalled"
    child = subprocess.Popen(
        [sys.executable, str(DRIVER), str(ready), *stall, *cli.command("run")[1:]],
        env=cli.env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        deadline = time.monotonic() + STALL_TIMEOUT_S
        while not ready.exists():
            assert child.poll() is None, f"ratedeck ended before the stall: {child.stderr.read()}"
            assert time.monotonic() < deadline, "ratedeck never reached the load"
            time.sleep(0.05)
        os.killpg(child.pid, signal.SIGINT)
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()

    assert child.returncode == 130, err
    assert err.strip().splitlines()[-1] == "ratedeck: interrupted"
    # the one line, and no traceback: not ratedeck's, nor one of a helper process in its
    # process group (Dagster's compute-log mirror, watch_orphans.py, printed its own)
    assert "Traceback" not in err, err
    assert "/pipeline/" not in err
    assert "report" not in out  # the report step never started
    assert not list((settings.data_dir / "outbox").glob("*.eml"))
    assert dump_warehouse(settings.warehouse_path) == before

    again = cli.run("run")
    assert again.returncode == 0, again.stderr
    assert len(list((settings.data_dir / "outbox").glob("*.eml"))) == 1
