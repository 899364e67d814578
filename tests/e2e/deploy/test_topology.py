"""The topology a deployment runs, each part its own process on one PostgreSQL server:
``dagster code-server`` serving the definitions over gRPC, ``dagster-webserver`` and
``dagster-daemon`` loading them from it. The schedule is switched on through the webserver's
GraphQL API; the daemon's tick launches one run per tech prefix, the runs load their decks into
the warehouse, and the pool (duckdb_warehouse, limit 1, run granularity) keeps the two
warehouse writers from overlapping. Then the CDR feed: a switch's Master.csv dropped into
``[cdr] folder``, the ``cdr_files`` sensor switched on, and the daemon's tick imports it and
launches the cost run of its day (pool cdr_costing), which prices each call exactly as a
brute-force reference does on the decks the schedule loaded."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest
import requests
from support.cdr import asterisk_line, reference_costs, warehouse_history
from support.smtp import RecordingHandler, free_port, recording_smtp

from pipeline.defs.dead_runs import DEAD_RUN_MESSAGE, SESSION_TAG
from pipeline.deploy import prepare_deployment
from pipeline.emulator import EmulatorServer
from pipeline.settings import Settings, load_settings
from pipeline.warehouse.db import Warehouse

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
API_KEY = "deploy-test-key"  # as conftest's emulator
PG_PASSWORD = "pg-Secret-4711"  # as conftest's server
LOCATION = "ratedeck"
LOADED = ["current", "021001"]  # decks the emulator serves
UNKNOWN = "021009"  # a tech prefix it answers 404 for
TECH_PREFIXES = [*LOADED, UNKNOWN]
ONCALL = "oncall@example.com"
SENSOR = "alert_on_run_failure"
SCHEDULE = "voice_daily_schedule"
CDR_SENSOR = "cdr_files"
CDR_JOB = "cdr_costs_job"
CDR_POOL = "cdr_costing"
START_TIMEOUT_S = 120
# a tick comes at the next whole minute; the scheduler looks every 30 s; each run takes seconds
RUNS_TIMEOUT_S = 240
# startSchedule / startSensor: (selector type, argument, result type, state field)
START = {
    "schedule": ("ScheduleSelector", "scheduleSelector", "ScheduleStateResult", "scheduleState"),
    "sensor": ("SensorSelector", "sensorSelector", "Sensor", "sensorState"),
}
START_MUTATION = """
mutation($selector: {selector}!) {{
  {field}({argument}: $selector) {{
    __typename
    ... on {result} {{ {state} {{ status }} }}
    ... on PythonError {{ message }}
  }}
}}
"""
LAUNCH_RUN = """
mutation($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
  }
}
"""
RELOAD_LOCATION = f"""
mutation {{
  reloadRepositoryLocation(repositoryLocationName: "{LOCATION}") {{
    __typename
    ... on WorkspaceLocationEntry {{ locationOrLoadError {{ __typename }} }}
  }}
}}
"""
DEAD_RUNS_SENSOR = "fail_dead_runs"


class Processes:
    """Subprocesses started by this test, each in its own process group (the code server and
    the daemon start children of their own), output kept in a log file for the failure
    message; all stopped at the end."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder, self.env = folder, env
        self.started: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, *command: str) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "wb")
        process = subprocess.Popen(
            list(command),
            cwd=self.folder,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.started.append((name, process))
        return process

    def kill(self, name: str) -> None:
        """SIGKILL the process and every child in its group, as a machine or service restart
        does (the code server's runs are its children), and stop watching it."""
        [process] = [p for n, p in self.started if n == name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        self.started.remove((name, process))

    def check_alive(self) -> None:
        for name, process in self.started:
            assert process.poll() is None, f"{name} exited: {self.log_tail(name)}"

    def log_tail(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop_all(self) -> None:
        for _, process in reversed(self.started):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _, process in self.started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_for(what: str, condition: Callable[[], object], timeout_s: float, processes) -> object:
    """Poll ``condition`` until it returns something true; bounded, never a timing assertion."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        processes.check_alive()
        value = condition()
        if value:
            return value
        time.sleep(1)
    logs = "\n".join(f"--- {n}\n{processes.log_tail(n)}" for n, _ in processes.started)
    raise AssertionError(f"gave up waiting for {what}\n{logs}")


@pytest.fixture
def smtp() -> Iterator[RecordingHandler]:
    with recording_smtp() as handler:
        yield handler


@pytest.fixture
def deployment(tmp_path, write_config, clean_env, smtp, monkeypatch) -> Iterator[Deployment]:
    """Settings with a voice schedule every minute, the Dagster home they write, a workspace
    naming the code server's port; the processes are started by the test."""
    inbox = tmp_path / "cdr_inbox"  # where the switch writes its call records
    inbox.mkdir()
    config = write_config(
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nstarttls = false\n'
        f'[alerts]\nrecipients = ["{ONCALL}"]\n'
        # the test drops whole files (a rename): no need to wait for a copy to settle
        f'[cdr]\nfolder = "{inbox}"\nsettle_s = 0\n'
    )
    text = config.read_text(encoding="utf-8")
    voice = re.search(r"\[voice\]\ntech_prefixes = .*\n", text).group(0)
    # every minute, and a third tech prefix the emulator does not know: its run fails
    tick_voice = f'[voice]\nschedule = "* * * * *"\ntech_prefixes = {TECH_PREFIXES!r}\n'
    config.write_text(text.replace(voice, tick_voice), encoding="utf-8")
    env = {
        "RATEDECK_CONFIG": str(config),
        "COMMPEAK_API_KEY": API_KEY,
        "RATEDECK_POSTGRES_PASSWORD": PG_PASSWORD,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    home = prepare_deployment(settings)  # what a deployment runs once: python -m pipeline.deploy
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    grpc_port, web_port = free_port(), free_port()
    (tmp_path / "workspace.yaml").write_text(
        "load_from:\n"
        f"  - grpc_server: {{host: 127.0.0.1, port: {grpc_port}, location_name: {LOCATION}}}\n",
        encoding="utf-8",
    )
    processes = Processes(tmp_path, clean_env(DAGSTER_HOME=str(home), **env))
    try:
        yield Deployment(processes, settings, home, grpc_port, web_port, config)
    finally:
        processes.stop_all()


@dataclass
class Deployment:
    processes: Processes
    settings: Settings
    home: Path
    grpc_port: int
    web_port: int
    config: Path

    @property
    def graphql(self) -> str:
        return f"http://127.0.0.1:{self.web_port}/graphql"

    def launch(self) -> None:
        """The three processes of a deployment, as its service manager would start them."""
        self.start_code_server()
        self.processes.start(
            "webserver",
            str(BIN / "dagster-webserver"),
            "-w",
            "workspace.yaml",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.web_port),
        )
        self.processes.start("daemon", str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml")

    def start_code_server(self, name: str = "code-server") -> None:
        self.processes.start(
            name,
            str(BIN / "dagster"),
            "code-server",
            "start",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.grpc_port),
            "-m",
            "pipeline.definitions",
            "--location-name",
            LOCATION,
        )

    def location_loaded(self) -> bool:
        """The webserver answers and has loaded the code server's definitions."""
        try:
            answer = requests.post(
                self.graphql,
                json={
                    "query": "{ workspaceOrError { ... on Workspace { locationEntries "
                    "{ name locationOrLoadError { __typename } } } } }"
                },
                timeout=10,
            )
        except requests.ConnectionError:
            return False
        entries = answer.json()["data"]["workspaceOrError"].get("locationEntries", [])
        return any(
            e["name"] == LOCATION and e["locationOrLoadError"]["__typename"] == "RepositoryLocation"
            for e in entries
        )

    def start(self, kind: str, name: str) -> str:
        """Switch a schedule or a sensor on through the webserver; returns its new status."""
        selector_type, argument, result_type, state = START[kind]
        field = f"start{kind.capitalize()}"
        query = START_MUTATION.format(
            selector=selector_type, field=field, argument=argument, result=result_type, state=state
        )
        result = self.mutate(query, field, **{f"{kind}Name": name})
        assert result["__typename"] == result_type, result
        return result[state]["status"]

    def launch_run(self, job: str, partition: str) -> str:
        """Submit a run of one partition through the webserver (the daemon's queue launches it,
        as it launches a schedule's); returns its run id."""
        params = {
            "selector": {
                "repositoryLocationName": LOCATION,
                "repositoryName": "__repository__",
                "jobName": job,
            },
            "executionMetadata": {"tags": [{"key": "dagster/partition", "value": partition}]},
        }
        answer = requests.post(
            self.graphql, json={"query": LAUNCH_RUN, "variables": {"params": params}}, timeout=30
        ).json()
        result = answer["data"]["launchRun"]
        assert result["__typename"] == "LaunchRunSuccess", result
        return result["run"]["runId"]

    def reload_location(self) -> bool:
        """The UI's *Reload* of the code location: true once the webserver has it loaded."""
        answer = requests.post(self.graphql, json={"query": RELOAD_LOCATION}, timeout=60).json()
        entry = answer["data"]["reloadRepositoryLocation"]
        return entry.get("locationOrLoadError", {}).get("__typename") == "RepositoryLocation"

    def mutate(self, query: str, field: str, **selector: str) -> dict:
        selector.update(repositoryLocationName=LOCATION, repositoryName="__repository__")
        answer = requests.post(
            self.graphql, json={"query": query, "variables": {"selector": selector}}, timeout=30
        ).json()
        return answer["data"][field]


def test_the_daemon_loads_decks_one_writer_at_a_time_mails_a_failure_once_and_costs_cdrs(
    deployment: Deployment, smtp: RecordingHandler, cli
):
    deployment.launch()
    wait_for(
        "the webserver to load the code server",
        deployment.location_loaded,
        START_TIMEOUT_S,
        deployment.processes,
    )

    assert deployment.start("sensor", SENSOR) == "RUNNING"
    assert deployment.start("schedule", SCHEDULE) == "RUNNING"

    instance = dg.DagsterInstance.from_config(str(deployment.home))
    records = wait_for(
        "a tick's runs to finish",
        lambda: finished_runs(instance, len(TECH_PREFIXES)),
        RUNS_TIMEOUT_S,
        deployment.processes,
    )

    # run monitoring (dagster.yaml as ratedeck wrote it) is one of the daemon's threads: a run
    # left STARTING (its launch failed with PostgreSQL away) is failed, freeing its pool slot
    assert instance.run_monitoring_enabled
    assert "MONITORING" in instance.get_daemon_heartbeats()
    by_partition = {r.dagster_run.tags.get("dagster/partition"): r for r in records}
    assert sorted(by_partition) == sorted(TECH_PREFIXES)
    assert {r.dagster_run.tags.get("dagster/schedule_name") for r in records} == {SCHEDULE}
    statuses = {key: r.dagster_run.status for key, r in by_partition.items()}
    failed = dg.DagsterRunStatus.FAILURE
    assert statuses == {**dict.fromkeys(LOADED, dg.DagsterRunStatus.SUCCESS), UNKNOWN: failed}
    # the pool: each warehouse writer's run starts after the one before it ended
    ordered = sorted(records, key=lambda r: r.start_time)
    for before, after in zip(ordered, ordered[1:], strict=False):
        assert before.end_time <= after.start_time
    with Warehouse(deployment.settings).reader() as con:
        loaded = con.execute("SELECT DISTINCT tech_prefix FROM voice_snapshot").fetchall()
    assert sorted(t for (t,) in loaded) == sorted(LOADED)

    # the CDR feed, on the decks just loaded; its run goes on while the failure email is waited for
    calls = switch_calls(deployment.settings)
    drop_master_csv(deployment.settings.cdr.folder, calls)
    assert deployment.start("sensor", CDR_SENSOR) == "RUNNING"

    # the failure sensor mails once per failed run: a later tick of it does not mail it again
    # (the schedule goes on ticking every minute: later runs may fail and be mailed too)
    failed_run = by_partition[UNKNOWN].dagster_run.run_id
    first_tick = wait_for(
        "the failure email",
        lambda: mailing_tick(instance, alerted_runs(smtp), failed_run),
        RUNS_TIMEOUT_S,
        deployment.processes,
    )
    wait_for(
        "a later sensor tick",
        lambda: later_tick(instance, first_tick),
        RUNS_TIMEOUT_S,
        deployment.processes,
    )
    alerted = alerted_runs(smtp)
    assert alerted.count(failed_run) == 1
    assert len(alerted) == len(set(alerted))
    email = smtp.emails[alerted.index(failed_run)]
    assert smtp.envelopes[alerted.index(failed_run)][1] == [ONCALL]
    assert email["Subject"].startswith(f"ratedeck run failed: voice_daily {UNKNOWN}: ")
    assert f"/runs/{failed_run}" in email.get_content()

    [cost_run] = wait_for(
        "the cdr_files tick's cost run to finish",
        lambda: finished_cost_runs(instance),
        RUNS_TIMEOUT_S,
        deployment.processes,
    )
    day = calls[0][2].date().isoformat()
    assert cost_run.dagster_run.status == dg.DagsterRunStatus.SUCCESS
    assert cost_run.dagster_run.tags["dagster/partition"] == day
    assert cost_run.dagster_run.tags["dagster/sensor_name"] == CDR_SENSOR
    # queued in its own pool (limit 2), not behind the deck loads' duckdb_warehouse
    assert cost_run.dagster_run.run_op_concurrency.all_pools == {CDR_POOL}
    assert instance.event_log_storage.get_concurrency_info(CDR_POOL).slot_count == 2
    # the tick's cursor keeps the file (name -> size:mtime): the next tick asks for nothing
    [cursor] = [s.instigator_data.cursor for s in sensor_states(instance, CDR_SENSOR)]
    assert list(json.loads(cursor)) == ["Master.csv"]
    total = assert_costed_exactly(deployment, cli, calls, day)
    run_id = cost_run.dagster_run.run_id
    [costed] = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    metadata = costed.asset_materialization.metadata
    assert metadata["calls_costed"].value == 5
    assert Decimal(metadata["day_total"].value) == total
    # its check ran in the same run, on the same day: no balance snapshot, so it passes
    [check] = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    evaluation = check.dagster_event.event_specific_data
    assert (evaluation.check_name, evaluation.partition, evaluation.passed) == (
        "balance_reconciles",
        day,
        True,
    )


def test_a_run_whose_process_died_is_failed_frees_its_slot_and_is_mailed(
    deployment: Deployment, smtp: RecordingHandler, emulator: EmulatorServer
):
    # the deck download of the first two runs hangs: each is killed inside its first step
    emulator.set_faults("slow:300x2/rates/current")
    try:
        deployment.launch()
        wait_for(
            "the code server", deployment.location_loaded, START_TIMEOUT_S, deployment.processes
        )
        assert deployment.start("sensor", SENSOR) == "RUNNING"
        assert deployment.start("sensor", DEAD_RUNS_SENSOR) == "RUNNING"
        instance = dg.DagsterInstance.from_config(str(deployment.home))

        # 1. the run's process alone killed (the OOM killer): the code server sees it die
        alone = deployment.launch_run("voice_daily", "current")
        os.kill(running_worker(deployment, instance, alone), signal.SIGKILL)
        wait_for(
            "the run to fail", lambda: failed(instance, alone), RUNS_TIMEOUT_S, deployment.processes
        )

        # 2. killed with the code server (the machine or the service restarted): the new code
        # server never knew the run; ratedeck's sensor finds its lock free and fails it
        with_server = deployment.launch_run("voice_daily", "current")
        running_worker(deployment, instance, with_server)
        deployment.processes.kill("code-server")
        deployment.start_code_server("code-server-again")
        wait_for(
            "the webserver to reload the code server",
            deployment.reload_location,
            START_TIMEOUT_S,
            deployment.processes,
        )
        # the next warehouse run waits for the dead one's pool slot, then proceeds
        after = deployment.launch_run("voice_daily", "021001")
        wait_for(
            "the next run to succeed",
            lambda: finished(instance, after),
            RUNS_TIMEOUT_S,
            deployment.processes,
        )
        wait_for(
            "both failure emails",
            lambda: {alone, with_server} <= set(alerted_runs(smtp)),
            RUNS_TIMEOUT_S,
            deployment.processes,
        )
    finally:
        emulator.set_faults(None)

    dead = instance.get_run_record_by_id(with_server)
    assert dead.dagster_run.status == dg.DagsterRunStatus.FAILURE
    [failure] = instance.all_logs(with_server, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert failure.message == DEAD_RUN_MESSAGE
    next_run = instance.get_run_record_by_id(after)
    assert next_run.dagster_run.status == dg.DagsterRunStatus.SUCCESS
    assert next_run.start_time >= dead.end_time  # it held the only duckdb_warehouse slot
    alerted = alerted_runs(smtp)
    assert sorted(alerted) == sorted([alone, with_server])  # each once, nothing else
    email = smtp.emails[alerted.index(with_server)]
    assert email["Subject"].startswith("ratedeck run failed: voice_daily current: the process")
    assert DEAD_RUN_MESSAGE in email.get_content()
    # the dead runs' lock files are gone: nothing is left to find
    assert list((deployment.settings.state_dir / "sessions").iterdir()) == []


def running_worker(deployment: Deployment, instance: dg.DagsterInstance, run_id: str) -> int:
    """The pid of the run's own process, once the run is started and holds its session lock."""

    def pid() -> int | None:
        run = instance.get_run_by_id(run_id)
        if run.status != dg.DagsterRunStatus.STARTED or SESSION_TAG not in run.tags:
            return None
        events = instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
        pids = [e.dagster_event.engine_event_data.metadata.get("pid") for e in events]
        return next((int(p.value) for p in pids if p is not None), None)

    return wait_for("the run to start", pid, RUNS_TIMEOUT_S, deployment.processes)


def failed(instance: dg.DagsterInstance, run_id: str) -> bool:
    return instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE


def finished(instance: dg.DagsterInstance, run_id: str) -> bool:
    return instance.get_run_by_id(run_id).is_finished


def alerted_runs(smtp: RecordingHandler) -> list[str]:
    """The run id of each alert email received, in order."""
    return [e["X-Ratedeck-Alert"].split("run=")[1] for e in smtp.emails]


def finished_runs(instance: dg.DagsterInstance, count: int) -> list | None:
    """The runs of the first tick (run key <tech prefix>@<tick>), once all finished."""
    records = instance.get_run_records(dg.RunsFilter(job_name="voice_daily"))
    if not records:
        return None
    first = min(tick_of(r) for r in records)
    runs = [r for r in records if tick_of(r) == first]
    done = [r for r in runs if r.dagster_run.is_finished]
    return done if len(done) >= count else None


def tick_of(record) -> str:
    return record.dagster_run.tags["dagster/run_key"].rpartition("@")[2]


def sensor_states(instance: dg.DagsterInstance, name: str) -> list:
    return [s for s in instance.all_instigator_state() if s.instigator_name == name]


def sensor_ticks(instance: dg.DagsterInstance) -> list:
    [state] = sensor_states(instance, SENSOR)
    return instance.get_ticks(state.instigator_origin_id, state.selector_id)


def mailing_tick(instance: dg.DagsterInstance, alerted: list[str], run_id: str) -> float | None:
    """The timestamp of the last finished sensor tick once ``run_id``'s email is there."""
    if run_id not in alerted:
        return None
    finished = [t.timestamp for t in sensor_ticks(instance) if t.status.value != "STARTED"]
    return max(finished) if finished else None


def later_tick(instance: dg.DagsterInstance, after: float) -> bool:
    return any(t.timestamp > after and t.status.value != "STARTED" for t in sensor_ticks(instance))


def switch_calls(settings: Settings) -> list[tuple[str, str, datetime, int, bool]]:
    """Calls just made (after the decks loaded, on today's UTC partition) to numbers under
    prefixes of both loaded decks (021001 dialled before the number), one unanswered, as
    (call_id, dialled, start, billsec, answered), the shape support.cdr's reference takes."""
    with Warehouse(settings).reader() as con:
        prefixes = con.execute(
            "SELECT tech_prefix, prefix FROM voice_rate_current WHERE length(prefix) >= 3 "
            "QUALIFY row_number() OVER (PARTITION BY tech_prefix ORDER BY prefix) <= 3 "
            "ORDER BY tech_prefix, prefix"
        ).fetchall()
    assert {tp for tp, _ in prefixes} == set(LOADED)  # the decks the schedule loaded
    now = datetime.now(UTC).replace(microsecond=0)
    calls = []
    for i, (tech_prefix, prefix) in enumerate(prefixes):
        number = (prefix + "4567890123")[:12]
        dialled = number if tech_prefix == "current" else tech_prefix + number
        calls.append((f"call-{i}", dialled, now, 61 + 17 * i, i != 2))
    return calls


def drop_master_csv(folder: Path | None, calls: list[tuple]) -> None:
    """As a switch's file arrives: written under a name the sensor skips, then renamed."""
    assert folder is not None
    part = folder / "Master.csv.part"
    part.write_text("".join(asterisk_line(*call) for call in calls), encoding="utf-8")
    part.rename(folder / "Master.csv")


def finished_cost_runs(instance: dg.DagsterInstance) -> list | None:
    records = instance.get_run_records(dg.RunsFilter(job_name=CDR_JOB))
    return records if records and all(r.dagster_run.is_finished for r in records) else None


def assert_costed_exactly(deployment: Deployment, cli, calls: list[tuple], day: str) -> Decimal:
    """Each billable call priced as the brute-force reference prices it on the warehouse's
    decks, exact to the last digit; ``ratedeck cdr status`` says the same total (returned)."""
    expected = reference_costs(calls, warehouse_history(deployment.settings))
    assert [v[4] for v in expected.values()].count(None) == 0  # every call on a deck's prefix
    with Warehouse(deployment.settings).reader() as con:
        costed = con.execute(
            "SELECT call_id, tech_prefix, matched_prefix, price, billed_seconds, cost "
            "FROM cdr_cost WHERE call_day = ? ORDER BY call_id",
            [day],
        ).fetchall()
    assert {row[0]: row[1:] for row in costed} == expected
    total = sum(v[4] for v in expected.values())
    assert total > 0
    status = cli("cdr", "status", "--json", "--config", str(deployment.config))
    assert status.returncode == 0, status.stderr
    [today] = [d for d in json.loads(status.stdout)["days"] if d["day"] == day]
    billable = sum(1 for call in calls if call[4])
    assert (today["calls"], today["billable"], today["costed"]) == (len(calls), billable, billable)
    assert (today["unmatched"], Decimal(str(today["total_cost"]))) == (0, total)
    return total
