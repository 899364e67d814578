"""One full pipeline run as in-process runs of the named Dagster jobs (``ratedeck run`` and the
demo): the runs carry the jobs' names (``voice_daily``, ``sms_daily``, ...), so the Dagster UI
lists them on the jobs' pages next to the scheduled ones.

One job run per partition (tech prefix, SMS channel), then balance, then the report.
A failing partition does not stop the others (each snapshot is its own transaction); the run as
a whole fails (exit 1) and says which step failed and why, in one line each. The steps commit to
the warehouse's working copy and the run publishes once, at the end: analysts see all of a run
or none of it, and a run costs one publish however many decks it loads.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import re
import signal
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
from dagster._core.instance.ref import InstanceRef

from pipeline import postgres_storage
from pipeline.dagster_storage import INDEX_SHARD, event_log_held
from pipeline.defs import AREA_JOBS, build_definitions
from pipeline.defs.common import API_POOL, CDR_POOL, CDR_POOL_LIMIT, WAREHOUSE_POOL, root_cause
from pipeline.defs.common import one_line as _one_line
from pipeline.defs.dead_runs import SESSION_TAG, held_session, reclaim_dead_runs, sessions_dir
from pipeline.durable import remove_quietly
from pipeline.errors import ConfigError, RunFailed, os_error_reason
from pipeline.settings import Settings
from pipeline.stages.feeds import FEEDS
from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.errors import WarehouseError

if TYPE_CHECKING:
    from dagster._utils.error import SerializableErrorInfo

log = logging.getLogger(__name__)

FEED_AREAS = tuple(feed.name for feed in FEEDS)
AREAS = (*FEED_AREAS, "balance")
POOLS = (WAREHOUSE_POOL, API_POOL)  # at default_limit (1)
# pools with a limit of their own: CDR days price side by side, their commits take turns
POOL_LIMITS = {CDR_POOL: CDR_POOL_LIMIT}
# Dagster's console logger prints every event at DEBUG, and a failed step as a multi-line
# traceback at ERROR; the CLI shows its own progress, summary and one-line error, and the full
# event log stays in the Dagster instance (visible in `make dev`).
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
INSTANCE_CONFIG_MARK = "# Written by ratedeck"
# Pools are enforced per run (the daemon's queue), not per step: in-process runs
# (`ratedeck run`, the demo) serialise their warehouse writes with file locks that die with
# their process, whereas a step slot of a killed process stays claimed for ever, and slots
# handed between two processes on SQLite storage were seen never to be granted.
# Run monitoring (the daemon's): a run the daemon left STARTING (its launch failed and the
# failure could not be recorded, e.g. PostgreSQL went away) would hold its pool slot for ever,
# and every later warehouse run would queue behind it without any alert. The daemon fails such
# a run after start_timeout_seconds, which frees the slot and lets alert_on_run_failure email
# it. A run is failed, never resumed: the DefaultRunLauncher cannot resume a run (Dagster
# refuses max_resume_run_attempts > 0 with it), and an in-process run would start over anyway.
# Without max_runtime_seconds a long load or backfill is never cut short.
RUN_START_TIMEOUT_S = 300
INSTANCE_CONFIG = f"""\
{INSTANCE_CONFIG_MARK}: runs that write the DuckDB warehouse are queued (pool duckdb_warehouse).
concurrency:
  pools:
    default_limit: 1
    granularity: run
run_monitoring:
  enabled: true
  start_timeout_seconds: {RUN_START_TIMEOUT_S}
  cancel_timeout_seconds: 180
  max_resume_run_attempts: 0
  poll_interval_seconds: 60
telemetry:
  enabled: false
"""

# `ratedeck run` and the demo run their jobs in this process, so a step's output goes straight
# to the terminal. Dagster's default compute log manager would copy it into files through a
# `tail -F` and a watch_orphans.py process per stream, started in this process group: a
# terminal's Ctrl-C reached them too, and each printed a KeyboardInterrupt traceback after
# "ratedeck: interrupted". Not written to dagster.yaml: the daemon's runs keep their logs.
IN_PROCESS_OVERRIDES = {
    "compute_logs": {
        "module": "dagster._core.storage.noop_compute_log_manager",
        "class": "NoOpComputeLogManager",
    }
}

# Below this much free space a run is refused up front: SQLite (Dagster's run storage) reports a
# full disk only as "disk I/O error", deep in a traceback.
MIN_FREE_BYTES = 1024 * 1024
# how pipeline.warehouse.db reports a publish that failed
PUBLISH_FAILURE = "cannot publish "


class DataDirError(RunFailed):
    """A folder the run writes cannot be written (read-only, full, not a folder): one line
    naming the folder and the operating system's reason."""


@dataclass
class StepOutcome:
    area: str
    partition: str | None
    ok: bool
    error: str | None = None
    metadata: dict[str, dict] = field(default_factory=dict)  # asset name -> metadata values
    # the step's writes are committed to the working copy, but the run's publish failed (why,
    # one line): analysts see them after the next successful publish
    unpublished: str | None = None


@dataclass
class RunSummary:
    steps: list[StepOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)

    @property
    def failures(self) -> list[StepOutcome]:
        return [s for s in self.steps if not s.ok]

    @property
    def unpublished(self) -> str | None:
        return next((s.unpublished for s in self.steps if s.unpublished), None)

    def total(self, asset: str, key: str) -> int:
        return sum(int(s.metadata.get(asset, {}).get(key, 0) or 0) for s in self.steps)


def parse_select(select: str | None) -> list[str]:
    if not select:
        return list(AREAS)
    areas = [a.strip() for a in select.split(",") if a.strip()]
    unknown = sorted(set(areas) - set(AREAS))
    if unknown:
        raise ConfigError(
            f"--select: unknown area {', '.join(unknown)} (choose from {', '.join(AREAS)})"
        )
    return areas


def require_credentials(settings: Settings, areas: list[str]) -> None:
    """Every area fetches from the API: without a key each of its steps would fail after its
    own retries, one by one; say so once, before the first request."""
    if set(areas) & set(AREAS) and settings.secrets.api_key is None:
        needed = ", ".join(a for a in AREAS if a in areas)
        raise ConfigError(f"no API key: set COMMPEAK_API_KEY (needed by {needed})")


def writable_folders(settings: Settings) -> list[Path]:
    """Every folder a run writes: the data dir's own, and the published warehouse's."""
    folders = [
        settings.data_dir,
        settings.dagster_home,
        settings.state_dir,
        settings.raw_dir,
        settings.warehouse_path.parent,
    ]
    if not settings.smtp.host:
        folders.append(settings.outbox_dir)
    return list(dict.fromkeys(Path(os.path.abspath(f)) for f in folders))


def check_writable(settings: Settings) -> None:
    """Create and write into each folder a run needs, before the first step: a read-only or
    full disk is then one line naming the folder, not a storage traceback mid-run."""
    for folder in writable_folders(settings):
        problem = folder_problem(folder)
        if problem:
            raise DataDirError(problem)


def folder_problem(folder: Path) -> str | None:
    """Why ``folder`` cannot take a small file, as "<folder>: <reason>", or None."""
    probe = folder / f".ratedeck-write-test-{uuid.uuid4().hex}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(probe, "wb") as handle:
            handle.write(b"\0" * 4096)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        return f"{folder}: cannot write there: {os_error_reason(exc)}"
    finally:
        remove_quietly(probe)  # a read-only folder refuses even the unlink of a missing file
    stat = os.statvfs(folder)
    free = stat.f_bavail * stat.f_frsize
    if free < MIN_FREE_BYTES:
        return (
            f"{folder}: cannot write there: {os.strerror(errno.ENOSPC)} ({free // 1024} KiB free)"
        )
    return None


def storage_failure(settings: Settings, exc: BaseException) -> DataDirError:
    """A failure of Dagster's own storage (SQLite under the Dagster home): the folder's
    problem when there is one, else the error's first line, never the traceback."""
    for folder in writable_folders(settings):
        problem = folder_problem(folder)
        if problem:
            return DataDirError(problem)
    if settings.dagster.postgres_url:
        while exc.__cause__ is not None:  # the innermost error says why (refused, password...)
            exc = exc.__cause__
        return DataDirError(postgres_storage.failure_line(settings, exc))
    return DataDirError(
        f"Dagster storage in {settings.dagster_home.resolve()} failed: {_one_line(str(exc))}"
    )


def instance_config(settings: Settings) -> str:
    """dagster.yaml: the pools, and with ``dagster.postgres_url`` the run, event-log and
    schedule storage in PostgreSQL (the password by reference: ``env:``)."""
    return INSTANCE_CONFIG + postgres_storage.storage_yaml(settings)


def prepare_dagster_home(settings: Settings) -> Path:
    """A persistent Dagster home inside the data dir, so `dagster dev` shows the CLI's runs."""
    home = settings.dagster_home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    wanted = instance_config(settings)
    ours = not config.exists() or config.read_text(encoding="utf-8").startswith(
        INSTANCE_CONFIG_MARK
    )
    if ours and (not config.exists() or config.read_text(encoding="utf-8") != wanted):
        config.write_text(wanted, encoding="utf-8")
    return home


def ensure_pools(instance: dg.DagsterInstance) -> None:
    """Give the pools their limit (``default_limit``, 1, or their own in ``POOL_LIMITS``)
    before any run is queued. The daemon's run queue reads which pools are limited before it
    creates the missing ones: the runs of the very first tick (one per tech prefix) would
    otherwise all start at once. A limit someone changed (UI, ``dagster instance concurrency
    set``) is kept. Two processes starting at once on a new instance (two ``ratedeck run``)
    may both find the pools missing and both create them; the one whose insert the storage
    refuses (a unique key) looks again, and finds them there."""
    from sqlalchemy.exc import IntegrityError

    try:
        _create_missing_pools(instance.event_log_storage)
    except IntegrityError:
        _create_missing_pools(instance.event_log_storage)


def _create_missing_pools(storage: Any) -> None:
    limited = storage.get_concurrency_keys()
    for pool in POOLS:
        if pool not in limited:
            storage.initialize_concurrency_limit_to_default(pool)
    for pool, limit in POOL_LIMITS.items():
        if pool not in limited:
            storage.set_concurrency_slots(pool, limit)


def persistent_instance(settings: Settings) -> dg.DagsterInstance:
    check_writable(settings)
    try:
        postgres_storage.check_reachable(settings)
    except postgres_storage.PostgresUnavailable as exc:
        raise DataDirError(str(exc)) from None
    try:
        home = prepare_dagster_home(settings)
        os.environ.setdefault("DAGSTER_HOME", str(home))
        instance = dg.DagsterInstance.from_ref(
            InstanceRef.from_dir(str(home), overrides=IN_PROCESS_OVERRIDES)
        )
        ensure_pools(instance)
        return instance
    except Exception as exc:  # SQLite/SQLAlchemy/OSError from Dagster's storage
        raise storage_failure(settings, exc) from exc


def run_pipeline(
    settings: Settings,
    areas: list[str] | None = None,
    *,
    instance: dg.DagsterInstance | None = None,
    on_step: Callable[[str], None] | None = None,
    report: bool = True,
) -> RunSummary:
    """Run the job of every configured partition of the selected areas, then the report."""
    areas = areas or list(AREAS)
    require_credentials(settings, areas)
    # no step retries in-process: a person is waiting, and the client already retries transient
    # errors; the daemon's runs keep dagster.fetch_retries
    # (a copy, not re-validated: the settings were checked when they were loaded)
    no_step_retries = settings.dagster.model_copy(update={"fetch_retries": 0})
    defs = build_definitions(settings.model_copy(update={"dagster": no_step_retries}))
    summary = RunSummary()
    with (
        held_session(sessions_dir(settings)) as session,
        event_log_held(instance, INDEX_SHARD),
        _ctrl_c_watch() as ctrl_c_pressed,
        _event_log_failures_logged(),
    ):
        if instance is not None:
            reclaim_dead_runs(instance, settings)

        def step(area: str, partition: str | None) -> None:
            if on_step:
                on_step(f"{area} {partition or ''}".strip())
            # one run of a partition at a time: two runs at once could otherwise load their
            # snapshots out of fetch order (the older one is then refused)
            # (the run's warehouse session is let go before waiting: the other run may be
            # waiting for the warehouse while it holds this partition)
            partition_lock = settings.state_dir / "partitions" / _lock_name(area, partition)
            with _file_lock(partition_lock, before_waiting=Warehouse(settings).release_session):
                run_id = str(uuid.uuid4())
                try:
                    job = defs.resolve_job_def(AREA_JOBS[area])
                    with event_log_held(instance, run_id):
                        result = job.execute_in_process(
                            run_id=run_id,
                            partition_key=partition,
                            instance=instance,
                            raise_on_error=False,
                            tags={"ratedeck/area": area, SESSION_TAG: session},
                            run_config=QUIET_CONSOLE,
                        )
                except Exception as exc:  # Dagster could not record the run (disk full...)
                    failure = storage_failure(settings, exc)
                    summary.steps.append(StepOutcome(area, partition, False, error=str(failure)))
                    raise _StorageBroken from exc
            summary.steps.append(_outcome(area, partition, result))
            if _interrupted(result) or ctrl_c_pressed():
                # Ctrl-C: Dagster fails the step under way and returns; the run stops there
                # (no later step, no report, no publish), as any command stops on Ctrl-C
                raise KeyboardInterrupt

        with _one_publish(settings, summary):
            try:
                _run_steps(settings, areas, report, step)
            except _StorageBroken:
                pass  # later steps would fail the same way; the steps done so far stand
    return summary


# What Dagster writes straight to stderr when it cannot store a log line in its event log
# (a full disk, a storage outage): the run's one-line error says why the step failed
EVENT_LOG_FAILURE = "Exception while writing logger call to event log: "


class _WithoutEventLogFailures:
    """``stream``, except Dagster's event-log failure texts, which go to the log at DEBUG."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if text.startswith(EVENT_LOG_FAILURE):
            log.debug("%s", text.rstrip())
            return len(text)
        written: int = self._stream.write(text)
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def _event_log_failures_logged() -> Iterator[None]:
    """While the jobs run in this process, Dagster's own text about an event log it could not
    write (several lines for each log call, on a full disk) stays off the terminal: the run
    reports the step's failure in one line."""
    previous = sys.stderr
    sys.stderr = _WithoutEventLogFailures(previous)
    try:
        yield
    finally:
        sys.stderr = previous


@contextmanager
def _ctrl_c_watch() -> Iterator[Callable[[], bool]]:
    """``pressed()``: whether a SIGINT came since entering. While Dagster runs a job it takes
    SIGINT with handlers of its own and raises it only at its checkpoints; one that comes
    after the last (as the run's success is recorded) is dropped, and the run succeeds as if
    nothing had been pressed. Python writes the number of each signal it handles to the wakeup
    fd, whichever handler takes it. Only the main thread handles signals (else: never)."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    os.set_blocking(write_end, False)
    previous = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    seen = False

    def pressed() -> bool:
        nonlocal seen
        with contextlib.suppress(BlockingIOError):
            seen = seen or signal.SIGINT in os.read(read_end, 4096)
        return seen

    try:
        yield pressed
    finally:
        signal.set_wakeup_fd(previous)
        os.close(read_end)
        os.close(write_end)


@contextmanager
def _one_publish(settings: Settings, summary: RunSummary) -> Iterator[None]:
    """The steps inside commit to the working copy; one publish at the end shows analysts the
    whole run. A failed publish marks the steps done but unpublished: the next run publishes."""
    try:
        with Warehouse(settings).publish_once():
            yield
    except (WarehouseError, OSError) as exc:  # the publish at the end; the steps stand
        reason = _publish_failure(exc)
        for done in summary.steps:
            if done.ok:
                done.unpublished = reason


class _StorageBroken(Exception):
    """Stops the remaining steps once Dagster's storage has failed."""


def _run_steps(
    settings: Settings,
    areas: list[str],
    report: bool,
    step: Callable[[str, str | None], None],
) -> None:
    for feed in FEEDS:
        if feed.name in areas:
            for partition_key in feed.partition_keys(settings):
                step(feed.name, partition_key)
    if "balance" in areas:
        step("balance", None)
    if report and set(FEED_AREAS) & set(areas):
        step("report", None)


@contextmanager
def _file_lock(path: Path, before_waiting: Callable[[], None] | None = None) -> Iterator[None]:
    """An exclusive inter-process lock; the kernel releases it if the process dies.
    ``before_waiting`` runs once when another process holds it, before this one waits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if before_waiting is not None:
                before_waiting()
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _lock_name(area: str, partition: str | None) -> str:
    # partition keys are validated settings (digits, 'current', user:id of [A-Za-z0-9_.@-])
    return f"{area}-{(partition or 'all').replace(':', '_').replace('/', '_')}.lock"


def _outcome(area: str, partition: str | None, result: dg.ExecuteInProcessResult) -> StepOutcome:
    metadata: dict[str, dict] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        metadata[materialization.asset_key.to_user_string()] = {
            key: getattr(value, "value", value) for key, value in materialization.metadata.items()
        }
    failed_check = _failed_check(result)
    if result.success and failed_check is None:
        return StepOutcome(area, partition, True, metadata=metadata)
    return StepOutcome(area, partition, False, error=_failure_message(result), metadata=metadata)


def _interrupted(result: dg.ExecuteInProcessResult) -> bool:
    """The run was stopped by Ctrl-C (SIGINT): Dagster cancels it, or fails the step it was
    in, or the run itself when no step was under way (while it set up a step's resources),
    with its interruption error (the error of the failure, or the cause of one)."""
    if result.dagster_run.status == dg.DagsterRunStatus.CANCELED:
        return True
    errors = [event.step_failure_data.error for event in result.get_step_failure_events()]
    errors += [
        event.job_failure_data.error
        for event in result.all_events
        if event.event_type == dg.DagsterEventType.RUN_FAILURE
    ]
    return any(_is_interruption(error) for error in errors)


def _is_interruption(error: SerializableErrorInfo | None) -> bool:
    while error is not None:
        if error.cls_name in ("DagsterExecutionInterruptedError", "KeyboardInterrupt"):
            return True
        error = error.cause
    return False


def _publish_failure(exc: WarehouseError | OSError) -> str:
    """Why the run's publish failed, one line: an operating system error as "<folder>: <reason>"
    (a full disk), anything else (a busy warehouse) as its message."""
    message = _one_line(str(exc))
    if not message.startswith(PUBLISH_FAILURE):
        return message
    root: BaseException = exc
    while root.__cause__ is not None:
        root = root.__cause__
    return _os_reason(message, _one_line(str(root)))


def _os_reason(publish_message: str, root_message: str) -> str:
    """ "cannot publish /x/warehouse.duckdb: [Errno 28] No space left on device: ..." ->
    "/x: No space left on device"."""
    path = publish_message.removeprefix(PUBLISH_FAILURE).split(": ", 1)[0]
    cause = re.search(r"\[Errno (\d+)\] ([^:]+)", root_message) or re.search(
        r"\[Errno (\d+)\] ([^:]+)", publish_message
    )
    reason = cause.group(2).strip() if cause else root_message
    return f"{Path(path).parent}: {reason}"


def _failed_check(result: dg.ExecuteInProcessResult) -> str | None:
    """A failed blocking check stops the load; the run must count as failed too."""
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            return f"check {evaluation.check_name} failed: {evaluation.description or ''}".strip()
    return None


def _failure_message(result: dg.ExecuteInProcessResult) -> str:
    """The root cause of the first failed check or step, as one line."""
    failed_check = _failed_check(result)
    if failed_check:
        return failed_check
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        if error is not None:
            return root_cause(error)
    return "run failed"
