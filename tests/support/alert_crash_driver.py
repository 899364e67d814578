"""Test-only driver, run as a child process: one tick of the sensor ``alert_on_run_failure``, as
the Dagster daemon's code server evaluates it, on the test's Dagster instance (a folder) and
SMTP server. The test's SMTP handler SIGKILLs this process in the middle of the send.

    python alert_crash_driver.py DATA_DIR SMTP_PORT INSTANCE_DIR CURSOR

Tests import its helpers too: ``alert_settings``, ``Ticks`` (the alert sensors ticked as the
daemon ticks them, each keeping its cursor), ``failed_run`` and ``pending_files``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg

from pipeline.defs import build_definitions
from pipeline.settings import Settings, load_settings

ENGINEERS = ["de@example.com"]
SENDER = "r@example.com"
FAILURE_SENSOR = "alert_on_run_failure"


def alert_settings(data_dir: str | Path, port: int) -> Settings:
    return load_settings(env={}).with_overrides(
        paths={"data_dir": str(data_dir)},
        smtp={
            "host": "127.0.0.1",
            "port": port,
            "sender": SENDER,
            "timeout_s": 10,
            "starttls": False,
        },
        alerts={"recipients": ENGINEERS},
    )


class Ticks:
    """The alert sensors, ticked as the daemon does (each keeps the cursor its tick returned)."""

    def __init__(self, defs: dg.Definitions, instance: dg.DagsterInstance) -> None:
        self.defs, self.instance = defs, instance
        self.cursors: dict[str, str | None] = {}

    def tick(self, name: str) -> dg.SensorExecutionData:
        sensor = self.defs.resolve_sensor_def(name)
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursors.get(name),
            repository_def=self.defs.get_repository_def(),
            sensor_name=name,
        )
        result = sensor.evaluate_tick(context)
        self.cursors[name] = result.cursor
        return result


def failed_run(defs: dg.Definitions, instance: dg.DagsterInstance) -> str:
    # nothing ever loaded: every feed is stale and the freshness run fails
    result = defs.resolve_job_def("freshness_checks").execute_in_process(
        instance=instance, raise_on_error=False
    )
    assert not result.success
    return result.run_id


def pending_files(state_dir: Path) -> list[str]:
    folder = state_dir / "pending_alerts"
    return sorted(path.name for path in folder.glob("*")) if folder.exists() else []


def main(data_dir: str, port: str, instance_dir: str, cursor: str) -> int:
    settings = alert_settings(data_dir, int(port))
    with dg.DagsterInstance.local_temp(instance_dir) as instance:
        ticks = Ticks(build_definitions(settings), instance)
        ticks.cursors[FAILURE_SENSOR] = cursor
        ticks.tick(FAILURE_SENSOR)
    return 0  # not reached when the test's server kills us


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
