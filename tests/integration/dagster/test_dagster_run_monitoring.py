"""A run the daemon left STARTING is failed by Dagster's run monitoring, and emailed.

What an auditor saw in a deployment: PostgreSQL went away while the daemon was starting a
warehouse run; the launch failed and the failure could not be recorded, so the run stayed
STARTING for ever, holding the only ``duckdb_warehouse`` slot (the run queue counts every
in-progress run of a pool), and no alert went out. Real parts: the Dagster home
``python -m pipeline.deploy`` writes, loaded as the daemon loads it; the daemon's own
monitoring iteration; the failure sensor's own ticks; a real SMTP server on loopback. The stuck
run is recorded as the daemon leaves it: a run of the real ``voice_daily`` job with the
RUN_STARTING event of its launch, ten minutes ago, and nothing after it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import dagster as dg
import pytest
from dagster._core.events import DagsterEvent, DagsterEventType
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES
from dagster._core.test_utils import create_test_daemon_workspace_context
from dagster._core.workspace.load_target import EmptyWorkspaceTarget
from dagster._daemon.monitoring.run_monitoring import execute_run_monitoring_iteration
from support.alert_crash_driver import Ticks
from support.smtp import RecordingHandler, recording_smtp

from pipeline.defs import build_definitions
from pipeline.deploy import prepare_deployment
from pipeline.orchestrate import RUN_START_TIMEOUT_S

# Dagster instance, definitions and sensor ticks in process: a few seconds
pytestmark = pytest.mark.slow

ENGINEERS = ["oncall@example.com"]


@pytest.fixture
def smtp() -> Iterator[RecordingHandler]:
    with recording_smtp() as handler:
        yield handler


@pytest.fixture
def daemon_instance(make_settings, smtp) -> Iterator[tuple[dg.DagsterInstance, object]]:
    """The deployment's Dagster home, loaded as ``dagster-daemon run`` loads it."""
    settings = make_settings(
        smtp={"host": "127.0.0.1", "port": smtp.port, "starttls": False},
        alerts={"recipients": ENGINEERS},
    )
    home = prepare_deployment(settings)
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    try:
        yield instance, settings
    finally:
        instance.dispose()


def stuck_starting_run(instance: dg.DagsterInstance, job: dg.JobDefinition, ago_s: float) -> str:
    """A run the daemon dequeued and launched ``ago_s`` seconds ago, and then nothing."""
    run = instance.create_run_for_job(job, tags={"dagster/partition": "current"})
    launch = DagsterEvent(
        event_type_value=DagsterEventType.RUN_STARTING.value,
        job_name=run.job_name,
        message="Launching run via the daemon's run queue",
    )
    instance.report_dagster_event(launch, run.run_id, timestamp=time.time() - ago_s)
    return run.run_id


def monitor_once(instance: dg.DagsterInstance) -> None:
    """One iteration of the daemon's MONITORING thread, which dagster-daemon starts only when
    its dagster.yaml enables run monitoring."""
    if "MONITORING" not in instance.get_required_daemon_types():
        return
    with create_test_daemon_workspace_context(EmptyWorkspaceTarget(), instance) as context:
        list(execute_run_monitoring_iteration(context, logging.getLogger("monitoring")))


def test_the_daemon_runs_monitoring_and_cannot_resume_with_the_default_launcher(daemon_instance):
    instance, _ = daemon_instance
    assert instance.run_monitoring_enabled
    assert "MONITORING" in instance.get_required_daemon_types()  # a thread of dagster-daemon
    assert instance.run_monitoring_start_timeout_seconds == RUN_START_TIMEOUT_S
    assert instance.run_monitoring_max_resume_run_attempts == 0
    assert not instance.run_launcher.supports_resume_run  # so a crashed run is failed


def test_a_run_left_starting_is_failed_frees_its_pool_and_is_emailed(daemon_instance, smtp):
    instance, settings = daemon_instance
    defs = build_definitions(settings)
    ticks = Ticks(defs, instance)
    ticks.tick("alert_on_run_failure")  # switched on before the outage
    job = defs.resolve_job_def("voice_daily")
    recent = stuck_starting_run(instance, job, ago_s=RUN_START_TIMEOUT_S / 2)
    stuck = stuck_starting_run(instance, job, ago_s=RUN_START_TIMEOUT_S + 300)
    assert instance.get_run_by_id(stuck).status == dg.DagsterRunStatus.STARTING

    monitor_once(instance)

    assert instance.get_run_by_id(stuck).status == dg.DagsterRunStatus.FAILURE
    assert instance.get_run_by_id(recent).status == dg.DagsterRunStatus.STARTING  # not yet due
    # the run queue counts the in-progress runs of a pool: the stuck one holds no slot now
    in_progress = instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS_RUN_STATUSES))
    assert [run.run_id for run in in_progress] == [recent]

    ticks.tick("alert_on_run_failure")

    [email] = smtp.emails
    # the subject is cut to one line; the body has the whole cause
    assert (
        email["Subject"] == "ratedeck run failed: voice_daily current: Run timed out due to tak..."
    )
    cause = f"Run timed out due to taking longer than {RUN_START_TIMEOUT_S} seconds to start."
    assert f"Cause:  {cause}" in email.get_content().splitlines()
    assert stuck in email.get_content()
