"""Runs whose process died: each run's process holds a lock for as long as it lives, and a run
still unfinished whose lock no process holds is failed, which frees its pool slot and is
emailed by ``alert_on_run_failure``.

Why ratedeck does this itself: Dagster 1.13's run monitoring judges a *started* run only
through its run launcher's ``check_run_worker_health``, which the ``DefaultRunLauncher`` does
not support (``supports_check_run_worker_health`` is False), and ratedeck sets no
``max_runtime_seconds`` (a long load or backfill must not be cut short). The code server fails
a run whose process it saw die (its orphan check), but not once the code server has died too
(the machine restarted, the container or the service restarted, the code server killed): the
new code server never knew the run, and the run stayed *started* for ever, holding its pool slot
(``duckdb_warehouse``: every later warehouse run queued behind it), with no email.

The lock is an exclusive ``flock`` on ``<state dir>/sessions/<session>.lock``, the session's id
in the run's tag ``ratedeck/session``. The kernel drops the lock when its process dies
(SIGKILL, the OOM killer, power loss), and nothing else does; a file created and locked under a
temporary name, then renamed, is locked from its first moment under its name. So a live run is
never failed: only a run whose lock file exists and can be taken. A run with no such file (a
run whose process finished and removed it, a ``ratedeck run`` on another machine whose state
dir this one cannot see) is left alone.
"""

from __future__ import annotations

import fcntl
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from pipeline.durable import lock_free
from pipeline.settings import Settings

# the session lock that the run's process holds
SESSION_TAG = "ratedeck/session"
UNFINISHED = (dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED)
DEAD_RUN_MESSAGE = (
    "the process running this run died (killed, or its machine restarted); marked failed"
)
# how often the sensor looks: a dead run holds its pool slot until then
DEAD_RUNS_INTERVAL_S = 60
LOCK_SUFFIX = ".lock"
# Dagster's tag naming the run a re-execution was made from (dagster._core.storage.tags)
PARENT_RUN_TAG = "dagster/parent_run_id"


def sessions_dir(settings: Settings) -> Path:
    return settings.state_dir / "sessions"


@contextmanager
def held_session(folder: Path) -> Iterator[str]:
    """A new session id whose lock file this process holds until the block ends (or it dies).

    Locked under a temporary name and then renamed: a sweep (``sweep_sessions``) never finds a
    new lock file free. Removed at the end, while still locked."""
    folder.mkdir(parents=True, exist_ok=True)
    session = uuid.uuid4().hex
    temporary = folder / f".{session}.tmp"
    path = folder / f"{session}{LOCK_SUFFIX}"
    with open(temporary, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        os.replace(temporary, path)
        try:
            yield session
        finally:
            path.unlink(missing_ok=True)


def session_dead(folder: Path, session: str) -> bool:
    return session.isalnum() and lock_free(folder / f"{session}{LOCK_SUFFIX}")


def reclaim_dead_runs(instance: dg.DagsterInstance, settings: Settings) -> list[str]:
    """Mark failed the unfinished runs whose process died, free their pool slots, then remove
    the lock files no process holds. Returns the run ids reclaimed."""
    folder = sessions_dir(settings)
    reclaimed = []
    for run in _unfinished_runs(instance):
        session = run.tags.get(SESSION_TAG)
        if session is None or _inherited(instance, run, session):
            continue
        if not session_dead(folder, session):
            continue
        current = instance.get_run_by_id(run.run_id)
        if current is None or current.status not in UNFINISHED:
            continue  # it finished while we looked
        instance.report_run_failed(current, message=DEAD_RUN_MESSAGE)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        reclaimed.append(run.run_id)
    sweep_sessions(folder, keep={run.tags.get(SESSION_TAG) for run in _unfinished_runs(instance)})
    return reclaimed


def sweep_sessions(folder: Path, keep: set[str | None]) -> int:
    """Remove the lock files of dead processes (no unfinished run names them: failed above, or
    finished before their process died). Returns how many."""
    if not folder.is_dir():
        return 0
    removed = 0
    for path in folder.iterdir():
        session = path.name.strip(".").split(".")[0]
        if session not in keep and lock_free(path):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _inherited(instance: dg.DagsterInstance, run: dg.DagsterRun, session: str) -> bool:
    """The run is a re-execution still carrying its parent's session tag (Dagster copies the
    parent's tags; the run's own process replaces the tag once it reaches its executor): the
    parent's dead lock says nothing about this run."""
    parent_id = run.tags.get(PARENT_RUN_TAG)
    parent = instance.get_run_by_id(parent_id) if parent_id else None
    return parent is not None and parent.tags.get(SESSION_TAG) == session


def _unfinished_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    return list(instance.get_runs(filters=dg.RunsFilter(statuses=list(UNFINISHED))))


class SessionExecutor(dg.Executor):
    """Dagster's in-process executor, holding a session lock for the whole run and naming it in
    the run's tags: what makes a run launched by the daemon (the run's own process, started by
    the code server) found by ``fail_dead_runs`` once that process dies."""

    def __init__(self, inner: dg.Executor, folder: Path) -> None:
        self._inner, self._folder = inner, folder

    def execute(self, plan_context, execution_plan) -> Iterator[dg.DagsterEvent]:
        with held_session(self._folder) as session:
            plan_context.instance.add_run_tags(plan_context.run_id, {SESSION_TAG: session})
            yield from self._inner.execute(plan_context, execution_plan)

    @property
    def retries(self):
        return self._inner.retries

    @property
    def step_dependency_config(self):
        return self._inner.step_dependency_config


def session_executor(settings: Settings) -> dg.ExecutorDefinition:
    """``in_process`` (same name and config as Dagster's), each run holding a session lock."""
    base = dg.in_process_executor
    create = base.executor_creation_fn
    assert create is not None  # Dagster's in_process executor is defined by its function

    @dg.executor(name=base.name, config_schema=base.config_schema.as_field())
    def in_process_with_session(init_context: dg.InitExecutorContext) -> dg.Executor:
        return SessionExecutor(create(init_context), sessions_dir(settings))

    return in_process_with_session


def build_dead_runs_sensor(settings: Settings) -> dg.SensorDefinition:
    @dg.sensor(
        name="fail_dead_runs",
        minimum_interval_seconds=DEAD_RUNS_INTERVAL_S,
        description="Fail the runs whose process died (the machine or the code server "
        "restarted): frees their pool slot; alert_on_run_failure emails them.",
    )
    def fail_dead_runs(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        reclaimed = reclaim_dead_runs(context.instance, settings)
        for run_id in reclaimed:
            context.log.warning(f"run {run_id}: {DEAD_RUN_MESSAGE}")
        return dg.SkipReason(f"{len(reclaimed)} dead runs failed" if reclaimed else "no dead run")

    return fail_dead_runs
