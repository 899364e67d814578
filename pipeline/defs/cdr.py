"""The CDR feed in Dagster: the ``cdr_files`` sensor imports new files from ``[cdr] folder``
and asks for the daily ``cdr_costs`` partitions they touch; the ``balance_reconciles`` check
of each partition compares the day's balance spend with its costed calls. A run the sensor (or anyone)
launches costs only calls not costed yet; a backfill of a partition recosts the day (logged
in cdr_costing_log). Wiring only: the work is in ``pipeline/stages/cdr.py``."""

import json
import time
import warnings
from datetime import date
from decimal import Decimal

import dagster as dg

from pipeline.defs.common import CDR_POOL
from pipeline.defs.resources import WarehouseResource, applied
from pipeline.errors import RatedeckError
from pipeline.settings import Settings
from pipeline.stages import cdr as stages
from pipeline.stages import reconcile
from pipeline.warehouse.errors import WarehouseLockedError, WarehouseNewerError

BACKFILL_TAG = "dagster/backfill"  # Dagster tags every run of a backfill with its id
COST_JOB = "cdr_costs_job"
# no new import starts after this long in one tick, nor waits longer for the warehouse (Dagster
# times a sensor evaluation out at 60 s)
TICK_BUDGET_S = 20.0


def build_cdr_defs(settings: Settings) -> tuple[list, list, list]:
    """(assets, jobs, sensors) of the CDR feed; none without a ``[cdr] folder``."""
    if settings.cdr.folder is None:
        return [], [], []
    partitions = dg.DailyPartitionsDefinition(
        start_date=settings.cdr.partitions_start.isoformat(), timezone="UTC", end_offset=1
    )
    costs = _cost_asset(settings, partitions)
    check = _balance_check(settings, partitions, costs)
    job = dg.define_asset_job(
        COST_JOB,
        selection=[costs],
        description="Cost the calls of one UTC day (a backfill recosts it).",
    )
    return [costs, check], [job], [_files_sensor(settings, job, partitions)]


def _cost_asset(settings: Settings, partitions) -> dg.AssetsDefinition:
    @dg.asset(
        name="cdr_costs",
        partitions_def=partitions,
        group_name="cdr",
        kinds={"duckdb"},
        # not duckdb_warehouse: a day is priced without the writer lock and only its short
        # commit takes it, so the runs of a backfill overlap (pools apply per run: see
        # defs/common.py)
        pool=CDR_POOL,
        description="cdr_cost: the day's billable calls, each priced as of its start time. A "
        "backfill of the partition recosts the day (cdr_costing_log).",
    )
    def cdr_costs(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        backfill = backfill_of(context.run, context.instance)
        who = f"dagster run {context.run.run_id}"
        costing = stages.cost_one_day(
            applied(settings, warehouse),
            date.fromisoformat(context.partition_key),
            recost=backfill is not None,
            who=f"{who} (backfill {backfill})" if backfill else who,
            why="Dagster backfill" if backfill else "cdr_files sensor or manual run",
        )
        return dg.MaterializeResult(metadata=_costing_metadata(costing))

    return cdr_costs


def backfill_of(run: dg.DagsterRun, instance: dg.DagsterInstance) -> str | None:
    """The backfill ``run`` belongs to, if any: its own tag, else its root run's. Dagster
    leaves the backfill tags off a run re-executed (by hand or by a run retry) once the
    backfill is over, and that run must recost the day as the run it repeats was asked to."""
    backfill = run.tags.get(BACKFILL_TAG)
    if backfill is not None or run.root_run_id is None:
        return backfill
    root = instance.get_run_by_id(run.root_run_id)
    return root.tags.get(BACKFILL_TAG) if root is not None else None


def _balance_check(
    settings: Settings, partitions: dg.PartitionsDefinition, costs: dg.AssetsDefinition
) -> dg.AssetChecksDefinition:
    tolerance = settings.reconcile.tolerance_pct
    with warnings.catch_warnings():  # a partitioned check is a Dagster preview: we mean it
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return _partitioned_check(settings, partitions, costs, tolerance)


def _partitioned_check(
    settings: Settings,
    partitions: dg.PartitionsDefinition,
    costs: dg.AssetsDefinition,
    tolerance: Decimal,
) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=costs,
        name="balance_reconciles",
        partitions_def=partitions,
        pool=CDR_POOL,  # runs with its partition's costing: one pool for the run
        description=f"The day's balance spend (top-ups apart) is within {tolerance}% of its "
        "costed calls (reconcile_daily; spend on a day with no costed call is beyond it); a day "
        "without balance data passes.",
    )
    def balance_reconciles(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> dg.AssetCheckResult:
        day = date.fromisoformat(context.partition_key)
        checked = reconcile.check_day(applied(settings, warehouse), day)
        return dg.AssetCheckResult(passed=checked.passed, metadata=_check_metadata(checked))

    return balance_reconciles


def _check_metadata(checked: reconcile.DayCheck) -> dict[str, str | int | bool]:
    day = checked.reconciled
    if day is None:
        return {"compared": False, "why": "no balance data and no costed calls that day"}
    if not day.has_balance_data:
        return {"compared": False, "why": "no balance data that day", "calls": day.calls,
                "own_cost": str(day.own_cost)}  # fmt: skip
    return {
        "compared": True,
        "spend": str(day.spend),
        "topups": str(day.topups),
        "own_cost": str(day.own_cost),
        "difference": str(day.difference),
        "pct": "n/a" if day.pct is None else str(day.pct),
        "tolerance_pct": str(day.tolerance_pct),
    }


def _costing_metadata(costing: stages.Costing) -> dict[str, str | int | bool]:
    return {
        "calls_costed": costing.calls,
        "unmatched": costing.unmatched,
        "recost": costing.recost,
        "day_total": str(costing.new_total),
        "previous_total": "never costed" if costing.old_total is None else str(costing.old_total),
        "costing_run": costing.costing_run if costing.costing_run is not None else "none",
        # what the pricing read changed before its commit: the day was priced again under
        # the writer lock (a deck or calls arrived meanwhile)
        "recomputed_at_commit": costing.recomputed,
    }


def _files_sensor(
    settings: Settings, job, partitions: dg.DailyPartitionsDefinition
) -> dg.SensorDefinition:
    folder = settings.cdr.folder
    assert folder is not None  # build_cdr_defs checked

    @dg.sensor(
        name="cdr_files",
        job=job,
        minimum_interval_seconds=60,
        description=f"Imports new call record files from {folder} and costs the days they touch.",
    )
    def cdr_files(
        context: dg.SensorEvaluationContext, warehouse: WarehouseResource
    ) -> dg.SensorResult:
        run_settings = applied(settings, warehouse)  # where the files are landed and loaded
        # names of files no longer in the folder are forgotten: the cursor, which Dagster
        # keeps with every tick, stays the size of the folder, not of its history
        seen = stages.still_present(json.loads(context.cursor) if context.cursor else {}, folder)
        changes = stages.folder_changes(
            folder, seen, settle_s=settings.cdr.settle_s, now_s=time.time()
        )
        days: dict[str, list[int]] = {}
        started = time.monotonic()
        for path, key in changes:
            if time.monotonic() - started > TICK_BUDGET_S:
                break  # the rest next tick: a sensor evaluation must finish within its timeout
            try:
                imported = stages.import_file(run_settings, path, lock_timeout_s=TICK_BUDGET_S)
            except WarehouseLockedError:
                context.log.info("warehouse busy (a load is running): the files wait a tick")
                break
            except WarehouseNewerError as exc:  # not the file's fault: it waits for a ratedeck
                context.log.error(f"cdr import: {exc}")  # that can load it, every tick
                break
            except RatedeckError as exc:
                seen[path.name] = key  # a bad file waits until it changes, not every tick
                context.log.error(f"cdr import {path.name}: {exc}")
                continue
            seen[path.name] = key
            if imported.conflicts:  # refused rows the user must hear of: no silent drop
                context.log.warning(_conflicts_line(path.name, imported))
            for day in imported.days:
                days.setdefault(day, []).append(imported.file_id)
        start = settings.cdr.partitions_start.isoformat()
        last = partitions.get_last_partition_key()  # today (UTC): no partition after it
        ahead = sorted(day for day in days if last is not None and day > last)
        if ahead:  # a day Dagster has no partition for would fail the whole tick, every tick
            context.log.warning(
                f"calls dated after today ({', '.join(ahead)}; a switch clock ahead?) are "
                "imported but not costed: `ratedeck cdr cost --day D` costs them"
            )
        requests = [
            dg.RunRequest(run_key=f"{day}:{'-'.join(map(str, ids))}", partition_key=day)
            for day, ids in sorted(days.items())
            if start <= day and day not in ahead  # earlier days: `ratedeck cdr cost --day D`
        ]
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(seen, sort_keys=True))

    return cdr_files


def _conflicts_line(name: str, imported: stages.CdrImport) -> str:
    """The sensor's word on a file's corrected calls (docs/cdr.md#corrected-calls)."""
    return (
        f"cdr import {name}: {imported.conflicts:,} row(s) refused as a call already stored "
        "with other values; the stored calls stand (reasons: ingest_reject, kind cdr, "
        f"snapshot_id {imported.file_id})"
    )
