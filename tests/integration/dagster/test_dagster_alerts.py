"""Alerts to the data engineers, through a real SMTP server (aiosmtpd on loopback): the
run-failure sensor's email (cause, partition, link, redaction), the freshness checks and their
failing run, and the retry policy of the fetch steps (a step that fails once, then loads)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import dagster as dg
import pytest
from support.smtp import RecordingHandler, recording_smtp

from pipeline.defs import build_definitions
from pipeline.notify.announced import announced_path, read_announced, write_announced
from pipeline.orchestrate import run_pipeline
from pipeline.warehouse.db import Warehouse

ENGINEERS = ["oncall@example.com", "data@example.com"]
FINANCE = ["finance@example.com"]
WEB = "http://dagster.internal:3000"


@pytest.fixture
def smtp() -> Iterator[RecordingHandler]:
    with recording_smtp() as handler:
        yield handler


@pytest.fixture
def alert_settings(make_settings, smtp):
    def make(**sections: dict):
        return make_settings(
            smtp={"host": "127.0.0.1", "port": smtp.port, "starttls": False},
            alerts={"recipients": ENGINEERS, **sections.pop("alerts", {})},
            report={"recipients": FINANCE},
            dagster={"webserver_url": WEB, **sections.pop("dagster", {})},
            **sections,
        )

    return make


def run_job(defs: dg.Definitions, job: str, instance, partition: str | None = None):
    return defs.resolve_job_def(job).execute_in_process(
        instance=instance, partition_key=partition, raise_on_error=False
    )


def evaluate_failure_sensor(defs: dg.Definitions, instance, result) -> None:
    """What the daemon does once for each failed run: the sensor with that run's failure."""
    sensor = next(s for s in defs.sensors if s.name == "alert_on_run_failure")
    [failure] = [e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE"]
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name,
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id),
    ).for_run_failure()
    sensor(context)


def check_evaluations(result) -> dict[str, tuple[bool, str]]:
    return {
        e.event_specific_data.check_name: (
            e.event_specific_data.passed,
            e.event_specific_data.description,
        )
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def test_failed_voice_run_emails_the_engineers_with_cause_and_link(
    alert_settings, emulator_at, smtp
):
    settings = alert_settings()
    defs = build_definitions(settings)
    emulator_at.set_faults("500/rates/021001")
    instance = dg.DagsterInstance.ephemeral()
    result = run_job(defs, "voice_daily", instance, partition="021001")
    assert not result.success

    evaluate_failure_sensor(defs, instance, result)

    [email] = smtp.emails
    [(mail_from, rcpt_to)] = smtp.envelopes
    assert sorted(rcpt_to) == sorted(ENGINEERS)  # finance is not told
    assert mail_from == settings.smtp.sender
    assert email["Subject"].startswith("ratedeck run failed: voice_daily 021001: ")
    body = email.get_content()
    assert f"Run:    {WEB}/runs/{result.run_id}" in body.splitlines()
    [cause] = [line for line in body.splitlines() if line.startswith("Cause:")]
    assert "500" in cause and "Traceback" not in body
    assert settings.secrets.api_key.get_secret_value() not in email.as_string()


class StorageGoneWarehouse(dg.ConfigurableResource):
    """A warehouse resource that cannot start because Dagster's PostgreSQL went away: the run
    fails outside any step (RUN_FAILURE with the error, no STEP_FAILURE), whose message is only
    Dagster's generic 'Execution of run for "voice_daily" failed. An exception was thrown
    during execution.' The driver's text carries a secret: no configured secret is mailed."""

    secret: str

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        import psycopg2
        from dagster_postgres.utils import DagsterPostgresException

        refused = psycopg2.OperationalError(
            f'connection to server at "db.internal", port 5432 failed: Connection refused '
            f"(client {self.secret})\n\tIs the server running on that host?"
        )
        raise DagsterPostgresException("too many retries for DB connection") from refused


def test_a_run_failed_outside_any_step_is_emailed_with_the_run_error_cause(alert_settings, smtp):
    settings = alert_settings()
    defs = build_definitions(settings)
    api_key = settings.secrets.api_key.get_secret_value()
    broken = dg.Definitions(
        assets=defs.assets,
        asset_checks=defs.asset_checks,
        jobs=defs.jobs,
        resources={**defs.resources, "warehouse": StorageGoneWarehouse(secret=api_key)},
        executor=dg.in_process_executor,
    )
    instance = dg.DagsterInstance.ephemeral()
    result = run_job(broken, "voice_daily", instance, partition="current")
    assert not result.success
    assert result.get_step_failure_events() == []  # no step failed: the run did

    evaluate_failure_sensor(defs, instance, result)

    [email] = smtp.emails
    cause = (
        'connection to server at "db.internal", port 5432 failed: Connection refused (client ***)'
    )
    # one line: the job, the partition, as much of the cause as fits; all of it in the body
    assert (
        email["Subject"] == "ratedeck run failed: voice_daily current: connection to server at..."
    )
    [line] = [line for line in email.get_content().splitlines() if line.startswith("Cause:")]
    assert line.split(":", 1)[1].strip() == cause
    assert api_key not in email.as_string()
    assert "An exception was thrown during execution" not in email.as_string()


def test_freshness_checks_flag_unloaded_tech_prefix_and_old_balance(
    alert_settings, smtp, api_warnings
):
    settings = alert_settings(alerts={"balance_max_age_hours": 2})
    defs = build_definitions(settings)
    instance = dg.DagsterInstance.ephemeral()
    loaded = run_job(defs, "voice_daily", instance, partition="current")
    assert loaded.success
    assert smtp.emails == []  # a load run evaluates no freshness check

    with api_warnings():
        result = run_job(defs, "freshness_checks", instance)

    evaluations = check_evaluations(result)
    assert evaluations == {
        "voice_fresh": (False, "voice 021001: never loaded (limit 26 h)"),
        "sms_fresh": (False, "sms acme:1: never loaded (limit 26 h)"),
        "balance_fresh": (False, "balance: never loaded (limit 2 h)"),
    }
    assert not result.success  # so the failure sensor tells the engineers
    evaluate_failure_sensor(defs, instance, result)
    [email] = smtp.emails
    assert email["Subject"].startswith("ratedeck run failed: freshness_checks: stale: ")
    assert "voice 021001: never loaded" in email.get_content()
    assert "voice current" not in email.get_content()  # it just loaded


def test_a_stale_feed_is_emailed_once_then_after_the_repeat_interval(
    alert_settings, smtp, api_warnings
):
    settings = alert_settings(alerts={"stale_repeat_hours": 24})
    defs = build_definitions(settings)
    instance = dg.DagsterInstance.ephemeral()
    with api_warnings():
        first = run_job(defs, "freshness_checks", instance)
        evaluate_failure_sensor(defs, instance, first)
        assert len(smtp.emails) == 1

        again = run_job(defs, "freshness_checks", instance)  # the next hour's check
        assert again.success  # nothing new to tell: no failed run, no email
        assert check_evaluations(again)["voice_fresh"][0] is False  # still shown as failing
        assert len(smtp.emails) == 1

        record = announced_path(settings.state_dir)
        day_ago = {key: when - timedelta(hours=24) for key, when in read_announced(record).items()}
        assert set(day_ago) == {"voice 021001", "voice current", "sms acme:1", "balance"}
        write_announced(record, day_ago)
        reminder = run_job(defs, "freshness_checks", instance)
    assert not reminder.success  # a day later: emailed again
    evaluate_failure_sensor(defs, instance, reminder)
    assert len(smtp.emails) == 2
    assert "voice 021001: never loaded" in smtp.emails[1].get_content()


def test_freshness_checks_pass_when_everything_loaded(alert_settings, smtp):
    settings = alert_settings()
    defs = build_definitions(settings)
    instance = dg.DagsterInstance.ephemeral()
    for job, partition in [
        ("voice_daily", "current"),
        ("voice_daily", "021001"),
        ("sms_daily", "acme:1"),
        ("balance_hourly", None),
    ]:
        assert run_job(defs, job, instance, partition).success, (job, partition)

    result = run_job(defs, "freshness_checks", instance)

    assert result.success
    assert {name: passed for name, (passed, _) in check_evaluations(result).items()} == {
        "voice_fresh": True,
        "sms_fresh": True,
        "balance_fresh": True,
    }


def test_fetch_step_is_retried_by_its_retry_policy(alert_settings, emulator_at):
    settings = alert_settings(dagster={"fetch_retries": 1, "fetch_retry_delay_s": 0})
    emulator_at.set_faults("500:1/rates/current")  # the first download fails, the next works
    result = run_job(
        build_definitions(settings), "voice_daily", dg.DagsterInstance.ephemeral(), "current"
    )

    assert result.success
    retried = [e.step_key for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert retried == ["voice_deck_raw"]
    with Warehouse(settings).reader() as con:
        assert con.execute("SELECT tech_prefix FROM voice_snapshot").fetchall() == [("current",)]


def test_without_retries_the_failed_fetch_fails_the_run(alert_settings, emulator_at):
    settings = alert_settings(dagster={"fetch_retries": 0})
    emulator_at.set_faults("500:1/rates/current")
    result = run_job(
        build_definitions(settings), "voice_daily", dg.DagsterInstance.ephemeral(), "current"
    )
    assert not result.success


def test_permanent_api_error_is_not_retried(alert_settings):
    # a retry cannot make the emulator know this tech prefix (404): the step fails at once
    settings = alert_settings(
        voice={"tech_prefixes": ["current", "021009"]},
        dagster={"fetch_retries": 2, "fetch_retry_delay_s": 3600},
    )
    result = run_job(
        build_definitions(settings), "voice_daily", dg.DagsterInstance.ephemeral(), "021009"
    )

    assert not result.success
    kinds = [e.event_type_value for e in result.all_events if e.step_key == "voice_deck_raw"]
    assert "STEP_UP_FOR_RETRY" not in kinds and "STEP_FAILURE" in kinds


def test_ratedeck_run_does_not_retry_steps(alert_settings, emulator_at):
    # with step retries, the second attempt would load; `ratedeck run` reports the failure
    settings = alert_settings(dagster={"fetch_retries": 2, "fetch_retry_delay_s": 0})
    emulator_at.set_faults("500:1/rates/current")

    summary = run_pipeline(settings, ["voice"], report=False)

    outcomes = {step.partition: step.ok for step in summary.steps}
    assert outcomes == {"current": False, "021001": True}
