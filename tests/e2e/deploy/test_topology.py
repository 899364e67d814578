"""The topology a deployment runs, each part its own process on one PostgreSQL server:
``dagster code-server`` serving the definitions over gRPC, ``dagster-webserver`` and
``dagster-daemon`` loading them from it. The schedule is switched on through the webserver's
GraphQL API; the daemon's tick launches one run per tech prefix, the runs load their decks into
the warehouse, and the pool (duckdb_warehouse, limit 1, run granularity) keeps the two
warehouse writers from overlapping."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
import requests
from support.smtp import free_port

from pipeline.orchestrate import prepare_dagster_home
from pipeline.settings import Settings, load_settings
from pipeline.warehouse.db import Warehouse

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
API_KEY = "deploy-test-key"  # as conftest's emulator
PG_PASSWORD = "pg-Secret-4711"  # as conftest's server
LOCATION = "ratedeck"
SCHEDULE = "voice_daily_schedule"
START_TIMEOUT_S = 120
# a tick comes at the next whole minute; the scheduler looks every 30 s; each run takes seconds
RUNS_TIMEOUT_S = 240
START_SCHEDULE = """
mutation($selector: ScheduleSelector!) {
  startSchedule(scheduleSelector: $selector) {
    __typename
    ... on ScheduleStateResult { scheduleState { status } }
    ... on PythonError { message }
  }
}
"""


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
def deployment(tmp_path, write_config, clean_env, monkeypatch) -> Iterator[Deployment]:
    """Settings with a voice schedule every minute, the Dagster home they write, a workspace
    naming the code server's port; the processes are started by the test."""
    config = write_config()
    config.write_text(
        config.read_text().replace("[voice]\n", '[voice]\nschedule = "* * * * *"\n'),
        encoding="utf-8",
    )
    env = {
        "RATEDECK_CONFIG": str(config),
        "COMMPEAK_API_KEY": API_KEY,
        "RATEDECK_POSTGRES_PASSWORD": PG_PASSWORD,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    home = prepare_dagster_home(settings)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    grpc_port, web_port = free_port(), free_port()
    (tmp_path / "workspace.yaml").write_text(
        "load_from:\n"
        f"  - grpc_server: {{host: 127.0.0.1, port: {grpc_port}, location_name: {LOCATION}}}\n",
        encoding="utf-8",
    )
    processes = Processes(tmp_path, clean_env(DAGSTER_HOME=str(home), **env))
    try:
        yield Deployment(processes, settings, home, grpc_port, web_port)
    finally:
        processes.stop_all()


@dataclass
class Deployment:
    processes: Processes
    settings: Settings
    home: Path
    grpc_port: int
    web_port: int

    @property
    def graphql(self) -> str:
        return f"http://127.0.0.1:{self.web_port}/graphql"

    def start(self) -> None:
        """The three processes of a deployment, as its service manager would start them."""
        self.processes.start(
            "code-server",
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

    def start_schedule(self, name: str) -> str:
        selector = {
            "repositoryLocationName": LOCATION,
            "repositoryName": "__repository__",
            "scheduleName": name,
        }
        answer = requests.post(
            self.graphql,
            json={"query": START_SCHEDULE, "variables": {"selector": selector}},
            timeout=30,
        ).json()
        result = answer["data"]["startSchedule"]
        assert result["__typename"] == "ScheduleStateResult", result
        return result["scheduleState"]["status"]


def test_schedule_tick_runs_load_decks_one_writer_at_a_time(deployment: Deployment):
    deployment.start()
    wait_for(
        "the webserver to load the code server",
        deployment.location_loaded,
        START_TIMEOUT_S,
        deployment.processes,
    )

    assert deployment.start_schedule(SCHEDULE) == "RUNNING"

    instance = dg.DagsterInstance.from_config(str(deployment.home))
    tech_prefixes = list(deployment.settings.voice.tech_prefixes)

    def finished_runs():
        records = instance.get_run_records(dg.RunsFilter(job_name="voice_daily"))
        done = [r for r in records if r.dagster_run.is_finished]
        return done if len(done) >= len(tech_prefixes) else None

    records = wait_for(
        "a tick's runs to finish", finished_runs, RUNS_TIMEOUT_S, deployment.processes
    )

    by_partition = {r.dagster_run.tags.get("dagster/partition"): r for r in records}
    assert sorted(by_partition) == sorted(tech_prefixes)
    assert {r.dagster_run.status for r in records} == {dg.DagsterRunStatus.SUCCESS}
    assert {r.dagster_run.tags.get("dagster/schedule_name") for r in records} == {SCHEDULE}
    # the pool: the second writer's run starts after the first one ended
    first, second = sorted(records, key=lambda r: r.start_time)
    assert first.end_time <= second.start_time
    with Warehouse(deployment.settings).reader() as con:
        loaded = con.execute("SELECT DISTINCT tech_prefix FROM voice_snapshot").fetchall()
    assert sorted(t for (t,) in loaded) == sorted(tech_prefixes)
