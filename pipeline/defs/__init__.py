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
    from pipeline.defs.balance import build_balance_defs
    from pipeline.defs.report import build_report_defs
    from pipeline.defs.sms import build_sms_defs
    from pipeline.defs.voice import build_voice_defs

    voice_assets, voice_checks = build_voice_defs(settings)
    sms_assets, sms_checks = build_sms_defs(settings)
    balance_assets = build_balance_defs(settings)
    report_assets = build_report_defs(settings)

    voice_job = dg.define_asset_job(
        AREA_JOBS["voice"],
        selection=dg.AssetSelection.groups("voice"),
        description="Download, normalise and load every tech prefix's voice deck.",
    )
    balance_job = dg.define_asset_job(
        AREA_JOBS["balance"],
        selection=dg.AssetSelection.groups("balance"),
        description="Snapshot the balance; alert finance once per low-balance crossing.",
    )
    report_job = dg.define_asset_job(
        AREA_JOBS["report"],
        selection=dg.AssetSelection.groups("report"),
        description="Email finance the price changes not yet reported.",
    )
    load_jobs = [voice_job]
    schedules = [
        _partitioned_schedule(
            "voice_daily_schedule",
            voice_job,
            settings.voice.schedule,
            list(settings.voice.tech_prefixes),
        ),
        dg.ScheduleDefinition(
            name="balance_hourly_schedule",
            job=balance_job,
            cron_schedule=settings.balance.schedule,
            execution_timezone="UTC",
        ),
    ]
    # no SMS channel configured: no SMS assets, so no (empty) SMS job or schedule either
    if settings.sms.channels:
        sms_job = dg.define_asset_job(
            AREA_JOBS["sms"],
            selection=dg.AssetSelection.groups("sms"),
            description="Download, normalise and load every SMS channel's rates.",
        )
        load_jobs.append(sms_job)
        schedules.append(
            _partitioned_schedule(
                "sms_daily_schedule",
                sms_job,
                settings.sms.schedule,
                [c.key for c in settings.sms.channels],
            )
        )

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
        # Every job runs its steps in its run's own process, one after another: each job is a
        # chain (voice and SMS: raw -> frame -> history; balance: snapshot -> alert; report: one
        # step) and the warehouse takes one writer at a time, so there is nothing to overlap,
        # while a subprocess per step (the multiprocess default) re-imports Dagster and the
        # pipeline for every step: 9x the wall time of a voice_daily run on 2 cores
        # (benchmarks/bench_executor.py, docs/benchmarks.md).
        executor=dg.in_process_executor,
        assets=[*voice_assets, *sms_assets, *balance_assets, *report_assets],
        asset_checks=[*voice_checks, *sms_checks],
        jobs=[*load_jobs, balance_job, report_job],
        schedules=schedules,
        sensors=[report_after_loads],
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
