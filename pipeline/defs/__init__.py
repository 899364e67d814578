"""Dagster definitions, built from settings (partitions come from the configured tech prefixes
and SMS channels). Assets are thin wiring over ``pipeline.stages``."""

import dagster as dg

from pipeline.settings import Settings

# The job each area runs as: the schedules launch these, and so do `ratedeck run` and the demo,
# so every run shows on its job's page in the Dagster UI.
AREA_JOBS = {
    "voice": "voice_daily",
    "sms": "sms_daily",
    "balance": "balance_hourly",
    "report": "price_change_report_job",
}


def build_definitions(settings: Settings) -> dg.Definitions:
    from pipeline.defs.alerts import build_alert_defs
    from pipeline.defs.balance import build_balance_defs
    from pipeline.defs.cdr import build_cdr_defs
    from pipeline.defs.dead_runs import build_dead_runs_sensor, session_executor
    from pipeline.defs.feed import build_feed_defs, feed_job
    from pipeline.defs.report import build_report_defs
    from pipeline.defs.resources import ratedeck_resources
    from pipeline.defs.sms import SMS_ASSETS
    from pipeline.defs.voice import VOICE_ASSETS

    balance_assets = build_balance_defs(settings)
    report_assets = build_report_defs(settings)
    alert_checks, alert_schedules, alert_sensors = build_alert_defs(settings)
    cdr_assets, cdr_jobs, cdr_sensors = build_cdr_defs(settings)
    feed_assets: list[dg.AssetsDefinition] = []
    load_jobs = []
    schedules = []
    for assets in (VOICE_ASSETS, SMS_ASSETS):
        built = build_feed_defs(settings, assets)
        if not built:  # e.g. no SMS channel: no SMS assets, so no (empty) job or schedule
            continue
        feed_assets.extend(built)
        job = feed_job(assets, settings)
        load_jobs.append(job)
        schedules.append(
            _partitioned_schedule(
                f"{assets.feed.name}_daily_schedule",
                job,
                assets.feed.section(settings).schedule,
                assets.feed.partition_keys(settings),
            )
        )
    balance_job = dg.define_asset_job(
        AREA_JOBS["balance"],
        selection=group_selection("balance", settings),
        description="Snapshot the balance; alert finance once per low-balance crossing.",
    )
    report_job = dg.define_asset_job(
        AREA_JOBS["report"],
        selection=group_selection("report", settings),
        description="Email finance the price changes not yet reported.",
    )
    schedules.append(
        dg.ScheduleDefinition(
            name="balance_hourly_schedule",
            job=balance_job,
            cron_schedule=settings.balance.schedule,
            execution_timezone="UTC",
        )
    )
    schedules.extend(alert_schedules)

    # One report run per successful load run (run_key: the load's run id, so a sensor tick
    # that is evaluated twice does not mail twice); report_log makes the email exactly-once.
    @dg.run_status_sensor(
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=load_jobs,
        request_job=report_job,
        name="report_after_loads",
        description="After a successful voice or SMS load, report any new price changes.",
    )
    def report_after_loads(context: dg.RunStatusSensorContext):
        return dg.RunRequest(run_key=context.dagster_run.run_id)

    return dg.Definitions(
        assets=[*feed_assets, *balance_assets, *report_assets, *cdr_assets],
        # the feeds' own checks are specs on their normalised assets; these are freshness checks
        asset_checks=alert_checks,
        jobs=[*load_jobs, balance_job, report_job, *cdr_jobs],
        schedules=schedules,
        sensors=[
            report_after_loads,
            *alert_sensors,
            build_dead_runs_sensor(settings),
            *cdr_sensors,
        ],
        resources=ratedeck_resources(settings),
        # Every job runs its steps in its run's own process, one after another: each job is a
        # chain (voice and SMS: raw -> frame -> history; balance: snapshot -> alert; report: one
        # step) and the warehouse takes one writer at a time, so there is nothing to overlap,
        # while a subprocess per step (the multiprocess default) re-imports Dagster and the
        # pipeline for every step: 9x the wall time of a voice_daily run on 2 cores
        # (benchmarks/bench_executor.py, docs/benchmarks.md). Each run holds a session lock
        # for as long as its process lives, so fail_dead_runs finds it once that process died.
        executor=session_executor(settings),
    )


def group_selection(group: str, settings: Settings) -> dg.AssetSelection:
    """A group's assets and the checks they evaluate themselves, without the freshness checks
    (they have their own job and schedule; in a load run they would fail before the load)."""
    from pipeline.defs.alerts import freshness_check_keys

    return dg.AssetSelection.groups(group) - dg.AssetSelection.checks(
        *freshness_check_keys(settings)
    )


def _partitioned_schedule(
    name: str, job, cron: str, partition_keys: list[str]
) -> dg.ScheduleDefinition:
    """One run per partition at each tick; the run key (partition@tick) makes a re-evaluated
    tick ask for the same runs, which the daemon does not launch twice."""

    @dg.schedule(name=name, job=job, cron_schedule=cron, execution_timezone="UTC")
    def _schedule(context: dg.ScheduleEvaluationContext):
        stamp = context.scheduled_execution_time.strftime("%Y%m%dT%H%M")
        for key in partition_keys:
            yield dg.RunRequest(run_key=f"{key}@{stamp}", partition_key=key)

    return _schedule
