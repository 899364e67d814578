"""Alerts for the data engineers: an email per failed run, and freshness checks.

``alert_on_run_failure`` emails ``[alerts] recipients`` once per failed run (the sensor's cursor
moves past each failure once) with the one-line cause and a link to the run. Dagster moves the
cursor past a run even when its email failed (SMTP down), so each email is kept under
``<state dir>/pending_alerts/`` before it is sent, removed once delivered, and
``retry_pending_alerts`` resends what is left (a failed delivery, a sender killed mid-send).

``feeds_fresh`` checks, on the warehouse, that every configured tech prefix, SMS channel and
the balance loaded within its ``[alerts] *_max_age_hours``; the ``freshness_checks`` job runs it
on ``alerts.freshness_schedule``. A stale feed fails its check every time; the run fails too
(so the failure sensor emails the stale feeds, one line each) when a feed has just become stale
or was last emailed ``alerts.stale_repeat_hours`` ago: an hourly check does not email the same
stale feed every hour (``pipeline.notify.announced`` keeps the record).
"""

from __future__ import annotations

import dagster as dg

from pipeline import clock
from pipeline.analytics.freshness import FeedAge, feed_ages
from pipeline.defs.common import one_line, root_cause
from pipeline.errors import RunFailed
from pipeline.notify.announced import announce_stale
from pipeline.notify.errors import NotifyError
from pipeline.notify.pending_alerts import resend_pending
from pipeline.notify.run_alert import FailedRun, send_run_failure_alert
from pipeline.settings import Settings
from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.errors import WarehouseMissingError

# how often the pending alerts are resent: an SMTP outage is usually minutes long
PENDING_ALERTS_INTERVAL_S = 300

# the asset each kind of feed's freshness is reported on
FRESHNESS_ASSETS = {
    "voice": "voice_rate_history",
    "sms": "sms_rate_history",
    "balance": "balance_snapshot",
}
FRESHNESS_DESCRIPTIONS = {
    "voice": "Every tech prefix loaded within alerts.voice_max_age_hours (default 26 h).",
    "sms": "Every SMS channel loaded within alerts.sms_max_age_hours (default 26 h).",
    "balance": "The balance loaded within alerts.balance_max_age_hours (default 2 h).",
}


def build_alert_defs(settings: Settings) -> tuple[list, list, list]:
    """(asset checks, schedules, sensors)."""
    freshness = build_freshness_checks(settings)
    job = dg.define_asset_job(
        "freshness_checks",
        selection=dg.AssetSelection.checks(freshness),
        description="Flag feeds that have not loaded for longer than their schedule allows.",
    )
    schedule = dg.ScheduleDefinition(
        name="freshness_checks_schedule",
        job=job,
        cron_schedule=settings.alerts.freshness_schedule,
        execution_timezone="UTC",
    )
    sensors = [build_run_failure_sensor(settings), build_pending_alerts_sensor(settings)]
    return [freshness], [schedule], sensors


def freshness_kinds(settings: Settings) -> list[str]:
    # no SMS channel configured: there is no SMS asset to report on
    return [kind for kind in FRESHNESS_ASSETS if kind != "sms" or settings.sms.channels]


def freshness_check_keys(settings: Settings) -> list[dg.AssetCheckKey]:
    return [
        dg.AssetCheckKey(dg.AssetKey(FRESHNESS_ASSETS[kind]), f"{kind}_fresh")
        for kind in freshness_kinds(settings)
    ]


def build_freshness_checks(settings: Settings) -> dg.AssetChecksDefinition:
    kinds = freshness_kinds(settings)
    specs = [
        dg.AssetCheckSpec(
            name=f"{kind}_fresh",
            asset=FRESHNESS_ASSETS[kind],
            description=FRESHNESS_DESCRIPTIONS[kind],
        )
        for kind in kinds
    ]

    @dg.multi_asset_check(
        specs=specs,
        name="feeds_fresh",
        description="Every configured feed loaded within its [alerts] *_max_age_hours; "
        "a stale one fails the run, which the run-failure sensor emails.",
    )
    def feeds_fresh():
        ages = read_feed_ages(settings)
        stale = []
        for kind in kinds:
            yield freshness_result(kind, ages[kind])
            stale += [age for age in ages[kind] if age.stale]
        due = announce_stale(settings.state_dir, stale, settings.alerts.stale_repeat_hours)
        if due:  # fails the run: the run-failure sensor emails the data engineers
            raise RunFailed("stale: " + "; ".join(age.describe() for age in due))

    return feeds_fresh


def read_feed_ages(settings: Settings) -> dict[str, list[FeedAge]]:
    try:
        con = Warehouse(settings).reader()
    except WarehouseMissingError:
        return feed_ages(settings, None, clock.utc_now())  # nothing ever loaded
    with con:
        return feed_ages(settings, con, clock.utc_now())


def freshness_result(kind: str, ages: list[FeedAge]) -> dg.AssetCheckResult:
    stale = [age for age in ages if age.stale]
    return dg.AssetCheckResult(
        check_name=f"{kind}_fresh",
        asset_key=FRESHNESS_ASSETS[kind],
        passed=not stale,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(age.describe() for age in stale) or "every feed is fresh",
        metadata={
            "stale": dg.MetadataValue.json([age.source for age in stale]),
            "age_hours": dg.MetadataValue.json({age.source: age.age_hours for age in ages}),
        },
    )


def build_run_failure_sensor(settings: Settings) -> dg.SensorDefinition:
    @dg.run_failure_sensor(
        name="alert_on_run_failure",
        description="Email the data engineers ([alerts] recipients) once per failed run.",
    )
    def alert_on_run_failure(context: dg.RunFailureSensorContext) -> None:
        run = context.dagster_run
        failed = FailedRun(
            run_id=run.run_id,
            job=run.job_name,
            partition=run.tags.get("dagster/partition"),
            cause=failure_cause(context),
        )
        try:
            sent = send_run_failure_alert(failed, settings)
        except NotifyError:
            # kept as pending; raising fails this tick, so the UI shows the failed delivery
            context.log.error(
                f"run failure of {run.run_id} not reported; retry_pending_alerts resends it"
            )
            raise
        if sent is None:  # this tick re-evaluates a run whose alert another sender holds
            context.log.info(f"run failure of {run.run_id} is being reported by another sender")
            return
        context.log.info(f"run failure of {run.run_id} reported to {sent.target}")

    return alert_on_run_failure


def build_pending_alerts_sensor(settings: Settings) -> dg.SensorDefinition:
    @dg.sensor(
        name="retry_pending_alerts",
        minimum_interval_seconds=PENDING_ALERTS_INTERVAL_S,
        description="Resend the alerts that could not be delivered (e.g. SMTP was down).",
    )
    def retry_pending_alerts(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        resent = resend_pending(settings)
        for failure in resent.failed:
            context.log.warning(f"pending alert {failure}")
        counts = len(resent.delivered), len(resent.failed), len(resent.busy)
        return dg.SkipReason(pending_summary(*counts))

    return retry_pending_alerts


def pending_summary(delivered: int, failed: int, busy: int = 0) -> str:
    def alerts(count: int) -> str:
        return f"{count} pending alert{'s' if count != 1 else ''}"

    if failed:
        summary = f"{alerts(failed)} still not delivered (resent {delivered})"
    elif delivered:
        summary = f"resent {alerts(delivered)}"
    else:
        summary = "" if busy else "no pending alert"
    # an alert another sender is sending right now (the failure sensor, an overlapping tick)
    held = f"{alerts(busy)} being sent by another sender" if busy else ""
    return "; ".join(part for part in (summary, held) if part)


def failure_cause(context: dg.RunFailureSensorContext) -> str:
    """The root cause of the first failed step; else of the run's own error (it failed outside
    any step: a resource that could not start, Dagster's storage gone mid-run), whose message
    is only Dagster's generic "Execution of run ... failed"; else that message (a run failed
    without an error: by the daemon's run monitoring, by ratedeck reclaiming a dead run)."""
    for event in context.get_step_failure_events():
        failure = event.step_failure_data
        if failure is not None and failure.error is not None:
            return root_cause(failure.error)
    run_failure = context.failure_event.job_failure_data
    if run_failure is not None and run_failure.error is not None:
        return root_cause(run_failure.error)
    return one_line(context.failure_event.message or "run failed")
