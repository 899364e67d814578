"""The shape of ``build_definitions`` with the demo settings (jobs, schedules, the sensor, pools,
kinds, groups) and ``dagster definitions validate`` on the workspace file `make dev` serves."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from pipeline.defs import AREA_JOBS, build_definitions
from pipeline.defs.common import WAREHOUSE_POOL
from pipeline.settings import load_settings

REPO = Path(__file__).resolve().parents[3]
DEMO_TECH_PREFIXES = ["current", "021001", "021002"]
DUCKDB_WRITERS = {
    "voice_rate_history",
    "sms_rate_history",
    "balance_snapshot",
    "low_balance_alert",
    "price_change_report",
}
GROUPS = {
    "voice_deck_raw": "voice",
    "voice_deck": "voice",
    "voice_rate_history": "voice",
    "sms_rates_raw": "sms",
    "sms_rates": "sms",
    "sms_rate_history": "sms",
    "balance_snapshot": "balance",
    "low_balance_alert": "balance",
    "price_change_report": "report",
}


@pytest.fixture(scope="module")
def validate_process(tmp_path_factory) -> Iterator[subprocess.Popen]:
    """``dagster definitions validate`` in a child: seconds to load the code location (the
    test is marked slow; no other test asks for it, so ``-m "not slow"`` never starts it)."""
    home = tmp_path_factory.mktemp("dagster_home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RATEDECK_", "COMMPEAK_"))}
    env.update(DAGSTER_HOME=str(home), PYTHONUNBUFFERED="1")
    dagster = Path(sys.executable).with_name("dagster")
    process = subprocess.Popen(
        [str(dagster), "definitions", "validate", "-w", "dagster_workspace.yaml"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def demo_defs(api_warnings) -> dg.Definitions:
    with api_warnings():
        return build_definitions(load_settings(env={}))


def test_jobs_and_their_selections(demo_defs):
    jobs = {job.name for job in demo_defs.jobs}
    assert jobs == {"voice_daily", "sms_daily", "balance_hourly", "price_change_report_job"}
    voice = demo_defs.resolve_job_def("voice_daily")
    assert voice.partitions_def is not None
    assert voice.partitions_def.get_partition_keys() == DEMO_TECH_PREFIXES
    sms = demo_defs.resolve_job_def("sms_daily")
    assert sms.partitions_def.get_partition_keys() == ["demo:1", "demo:2"]


def test_every_job_runs_its_steps_in_process(demo_defs):
    """No subprocess per step (docs/dagster.md): the UI's and the daemon's runs as well."""
    executors = {
        name: demo_defs.resolve_job_def(name).executor_def.name for name in AREA_JOBS.values()
    }
    assert executors == dict.fromkeys(AREA_JOBS.values(), "in_process")


def test_voice_schedule_requests_one_run_per_tech_prefix(demo_defs, api_warnings):
    schedule = demo_defs.resolve_schedule_def("voice_daily_schedule")
    assert (schedule.job_name, schedule.cron_schedule) == ("voice_daily", "0 6 * * *")
    assert schedule.execution_timezone == "UTC"
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 26, 6, 0, tzinfo=UTC),
        repository_def=demo_defs.get_repository_def(),
    )
    with api_warnings():
        requests = schedule.evaluate_tick(context).run_requests
    assert [r.partition_key for r in requests] == DEMO_TECH_PREFIXES
    assert [r.run_key for r in requests] == [f"{tp}@20261126T0600" for tp in DEMO_TECH_PREFIXES]
    # the same tick evaluated again asks for the same runs: the daemon will not double them
    assert [r.run_key for r in schedule.evaluate_tick(context).run_requests] == [
        r.run_key for r in requests
    ]


def test_other_schedules_and_the_report_sensor(demo_defs):
    schedules = {s.name: s for s in demo_defs.schedules}
    assert set(schedules) == {
        "voice_daily_schedule",
        "sms_daily_schedule",
        "balance_hourly_schedule",
        "freshness_checks_schedule",
    }
    assert schedules["sms_daily_schedule"].job_name == "sms_daily"
    assert schedules["balance_hourly_schedule"].job_name == "balance_hourly"
    assert schedules["balance_hourly_schedule"].cron_schedule == "0 * * * *"
    sensor = demo_defs.resolve_sensor_def("report_after_loads")
    assert isinstance(sensor, dg.RunStatusSensorDefinition)
    assert sensor.job_name == "price_change_report_job"


def test_alerts_freshness_checks_and_fetch_retries(demo_defs):
    sensor = demo_defs.resolve_sensor_def("alert_on_run_failure")
    assert isinstance(sensor, dg.RunStatusSensorDefinition)
    retry = demo_defs.resolve_sensor_def("retry_pending_alerts")
    assert retry.minimum_interval_seconds == 300
    assert retry.default_status == sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert demo_defs.resolve_job_def("freshness_checks").name == "freshness_checks"
    freshness = {"voice_fresh", "sms_fresh", "balance_fresh"}
    checks = {key.name for key in demo_defs.resolve_asset_graph().asset_check_keys}
    assert freshness <= checks
    for job in ("voice_daily", "sms_daily", "balance_hourly"):  # never in a load run
        graph = demo_defs.resolve_job_def(job).asset_layer.asset_graph
        assert not {key.name for key in graph.asset_check_keys} & freshness, job
    retried = {
        key: demo_defs.resolve_assets_def(key).op.retry_policy
        for key in ("voice_deck_raw", "sms_rates_raw", "balance_snapshot", "voice_deck")
    }
    assert retried["voice_deck"] is None  # parsing again cannot help
    for key in ("voice_deck_raw", "sms_rates_raw", "balance_snapshot"):
        assert retried[key] == dg.RetryPolicy(
            max_retries=2, delay=300, backoff=dg.Backoff.EXPONENTIAL
        ), key


def test_pools_kinds_and_groups(demo_defs):
    specs = {spec.key.to_user_string(): spec for spec in demo_defs.resolve_all_asset_specs()}
    assert {key: spec.group_name for key, spec in specs.items()} == GROUPS
    assert all(spec.kinds for spec in specs.values())
    pools = {key: demo_defs.resolve_assets_def(key).op.pool for key in specs}
    writers = {key for key, spec in specs.items() if "duckdb" in spec.kinds}
    assert writers == DUCKDB_WRITERS
    assert {key for key, pool in pools.items() if pool == WAREHOUSE_POOL} == DUCKDB_WRITERS
    checks = {key.name for key in demo_defs.resolve_asset_graph().asset_check_keys}
    assert {"non_empty", "row_count_not_collapsed", "no_duplicate_prefix"} <= checks


@pytest.mark.slow  # `dagster definitions validate` in a subprocess
def test_dagster_definitions_validate(validate_process):
    output, _ = validate_process.communicate(timeout=180)
    assert validate_process.returncode == 0, output
    assert "Validation successful for code location ratedeck" in output
