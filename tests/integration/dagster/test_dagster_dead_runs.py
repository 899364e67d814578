"""``reclaim_dead_runs`` (the ``fail_dead_runs`` sensor, and ``ratedeck run`` at its start)
fails a run only when its session's lock file exists and no process holds it.

Real parts: a Dagster instance on disk, and real processes holding the session locks, one of
them SIGKILLed. The whole deployment (the code server killed with its run, the run failed, its
slot freed, the email) is ``tests/e2e/deploy/test_topology.py``.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import DagsterEvent, DagsterEventType

from pipeline.defs import build_definitions
from pipeline.defs.dead_runs import (
    DEAD_RUN_MESSAGE,
    PARENT_RUN_TAG,
    SESSION_TAG,
    reclaim_dead_runs,
    sessions_dir,
)

# a Dagster instance and two subprocesses: a few seconds
pytestmark = pytest.mark.slow

# holds a session lock, prints its id, then sleeps until killed
HOLDER = """
import sys, time
from pathlib import Path
from pipeline.defs.dead_runs import held_session
with held_session(Path(sys.argv[1])) as session:
    print(session, flush=True)
    time.sleep(600)
"""


def hold_session(folder: Path) -> tuple[subprocess.Popen, str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    return holder, holder.stdout.readline().strip()


def started_run(
    instance: dg.DagsterInstance,
    job: dg.JobDefinition,
    session: str | None,
    extra_tags: dict[str, str] | None = None,
) -> str:
    """A run of ``voice_daily`` as its process leaves it once started (tagged with its session)."""
    tags = {"dagster/partition": "current"} | ({SESSION_TAG: session} if session else {})
    tags |= extra_tags or {}
    run = instance.create_run_for_job(job, tags=tags)
    start = DagsterEvent(
        event_type_value=DagsterEventType.RUN_START.value,
        job_name=run.job_name,
        message="Started execution of run",
    )
    instance.report_dagster_event(start, run.run_id)
    return run.run_id


def test_only_a_run_whose_process_died_is_failed(make_settings, tmp_path):
    settings = make_settings()
    folder = sessions_dir(settings)
    job = build_definitions(settings).resolve_job_def("voice_daily")
    live, live_session = hold_session(folder)
    dead, dead_session = hold_session(folder)
    try:
        dead.send_signal(signal.SIGKILL)
        dead.wait()
        with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
            alive_run = started_run(instance, job, live_session)
            dead_run = started_run(instance, job, dead_session)
            elsewhere = started_run(instance, job, "0" * 32)  # no lock file here: unknown
            untagged = started_run(instance, job, None)

            assert reclaim_dead_runs(instance, settings) == [dead_run]
            assert reclaim_dead_runs(instance, settings) == []  # once

            statuses = {
                run_id: instance.get_run_by_id(run_id).status
                for run_id in (alive_run, dead_run, elsewhere, untagged)
            }
            [failure] = instance.all_logs(dead_run, of_type=DagsterEventType.RUN_FAILURE)
    finally:
        live.kill()
        live.wait()
    started = dg.DagsterRunStatus.STARTED
    assert statuses == {
        alive_run: started,
        dead_run: dg.DagsterRunStatus.FAILURE,
        elsewhere: started,
        untagged: started,
    }
    assert failure.message == DEAD_RUN_MESSAGE
    # the dead process's lock file is swept; the live one's stays
    assert sorted(p.name for p in folder.iterdir()) == [f"{live_session}.lock"]


def test_a_re_execution_still_carrying_its_dead_parent_s_session_is_left_alone(
    make_settings, tmp_path
):
    """Dagster copies a run's tags to its re-execution: until the new run's process names its
    own session, it carries the dead parent's, whose lock is free. Failing it then would free the
    pool slot of a live run and email a failure that did not happen."""
    settings = make_settings()
    folder = sessions_dir(settings)
    job = build_definitions(settings).resolve_job_def("voice_daily")
    dead, dead_session = hold_session(folder)
    dead.send_signal(signal.SIGKILL)
    dead.wait()
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        parent = started_run(instance, job, dead_session)
        # the code server saw the parent's process die and failed it; its lock file stays
        instance.report_run_failed(instance.get_run_by_id(parent))
        child = started_run(instance, job, dead_session, {PARENT_RUN_TAG: parent})

        assert reclaim_dead_runs(instance, settings) == []

        assert instance.get_run_by_id(child).status == dg.DagsterRunStatus.STARTED
        assert instance.all_logs(child, of_type=DagsterEventType.RUN_FAILURE) == []
