"""The assets of one rate feed, partitioned by source: raw download -> normalised -> history.

Every feed gets the same three assets from its ``FeedAssets`` (names and texts for the UI) over
the generic stages in ``pipeline/stages/feed.py``; what differs between feeds lives in their
``FeedSpec``, not here.
"""
# No "from __future__ import annotations" here: Dagster inspects annotations at definition time.
# An asset with check_specs has several outputs; annotated "-> MaterializeResult" Dagster then
# types its value output as Nothing and refuses the value. So those assets carry no annotation.

from dataclasses import dataclass

import dagster as dg

from pipeline.defs.common import (
    API_POOL,
    WAREHOUSE_POOL,
    changes_metadata,
    check_result,
    deck_check_specs,
    fetch_retry_policy,
    landed_metadata,
    markdown_preview,
    retried_only_if_transient,
)
from pipeline.defs.resources import CommPeakResource, WarehouseResource, applied
from pipeline.landing import LandedFile
from pipeline.settings import Settings
from pipeline.stages import feed as stages
from pipeline.stages.staging import StagedIngest


@dataclass(frozen=True)
class FeedAssets:
    """A feed's asset names and the texts the Dagster UI shows. The normalised asset is named;
    its raw download is "<normalised>_raw" and its history "<history table>_history"."""

    feed: stages.FeedSpec
    normalised: str
    descriptions: tuple[str, str]  # of the raw download, of the normalised snapshot
    job_description: str
    # metadata name of SnapshotLoad.unknown_count, for a feed with a reference (SMS: mcc_mnc)
    unknown_metadata: str | None = None

    @property
    def raw(self) -> str:
        return f"{self.normalised}_raw"

    @property
    def history(self) -> str:
        return f"{self.feed.snapshot.versioned.table}_history"

    @property
    def history_description(self) -> str:
        snapshot = self.feed.snapshot
        return (
            f"{snapshot.snapshot_table} + {snapshot.versioned.table} history in the warehouse "
            "(one transaction)."
        )


def build_feed_defs(settings: Settings, assets: FeedAssets) -> list[dg.AssetsDefinition]:
    """The feed's three assets; none when it has no partition configured."""
    keys = assets.feed.partition_keys(settings)
    if not keys:
        return []
    partitions = dg.StaticPartitionsDefinition(keys)
    return [
        _raw_asset(settings, assets, partitions),
        _normalised_asset(settings, assets, partitions),
        _history_asset(settings, assets, partitions),
    ]


def _raw_asset(settings: Settings, assets: FeedAssets, partitions) -> dg.AssetsDefinition:
    @dg.asset(
        name=assets.raw,
        partitions_def=partitions,
        group_name=assets.feed.name,
        kinds={"http"},
        pool=API_POOL,
        retry_policy=fetch_retry_policy(settings),
        description=assets.descriptions[0],
    )
    def raw(
        context: dg.AssetExecutionContext, commpeak: CommPeakResource, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        run_settings = applied(settings, commpeak, warehouse)  # the landing zone is data_dir's
        fetch = assets.feed.fetch
        if fetch is None:  # a pushed feed (CDR files) has no raw asset
            raise TypeError(f"feed {assets.feed.name} is not fetched from the API")
        with retried_only_if_transient(), commpeak.create_client(run_settings) as client:
            landed = fetch(run_settings, client, context.partition_key)
        return dg.MaterializeResult(value=landed, metadata=landed_metadata(landed))

    return raw


def _normalised_asset(settings: Settings, assets: FeedAssets, partitions) -> dg.AssetsDefinition:
    feed = assets.feed

    @dg.asset(
        name=assets.normalised,
        ins={"landed": dg.AssetIn(assets.raw)},
        partitions_def=partitions,
        group_name=feed.name,
        kinds={"polars"},
        check_specs=deck_check_specs(
            assets.normalised, stages.check_descriptions(feed), partitions
        ),
        description=assets.descriptions[1],
    )
    def normalised(landed: LandedFile, warehouse: WarehouseResource):  # no return type: see top
        run_settings = applied(settings, warehouse)
        staged = stages.normalise(run_settings, feed, landed)
        rows = staged.rows()  # read once: for the preview and the checks
        outcomes = stages.check(run_settings, feed, landed.source, rows)
        return dg.MaterializeResult(
            value=staged,
            metadata={
                "rows": staged.row_count,
                "rejects": staged.reject_count,
                "format": staged.source_format,
                "notes": "; ".join(staged.notes) or "none",
                "preview": markdown_preview(rows),
                "rejects_preview": markdown_preview(staged.rejects()),
            },
            check_results=[check_result(outcome) for outcome in outcomes],
        )

    return normalised


def _history_asset(settings: Settings, assets: FeedAssets, partitions) -> dg.AssetsDefinition:
    @dg.asset(
        name=assets.history,
        ins={"staged": dg.AssetIn(assets.normalised)},
        partitions_def=partitions,
        group_name=assets.feed.name,
        kinds={"duckdb"},
        pool=WAREHOUSE_POOL,
        description=assets.history_description,
    )
    def history(
        context: dg.AssetExecutionContext, staged: StagedIngest, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        outcome = stages.load(applied(settings, warehouse), assets.feed, staged)
        if not isinstance(outcome, stages.SnapshotLoad):  # diverted: another source's snapshot
            context.log.warning(f"{staged.landed.source}: {outcome.note}")
            return dg.MaterializeResult(value=outcome.snapshot_id, metadata=_diverted(outcome))
        if outcome.kept_refused:
            context.log.warning(
                f"{staged.landed.source}: {stages.kept_refused_note(outcome.kept_refused)}"
            )
        return dg.MaterializeResult(value=outcome.snapshot_id, metadata=_loaded(assets, outcome))

    return history


def _loaded(assets: FeedAssets, outcome: stages.SnapshotLoad) -> dict[str, str | int | bool]:
    unknown = {assets.unknown_metadata: outcome.unknown_count} if assets.unknown_metadata else {}
    return {
        "snapshot_id": outcome.snapshot_id,
        "replayed": outcome.replayed,
        "rates_opened": outcome.opened,
        "rates_closed": outcome.closed,
        "rates_withdrawn": outcome.withdrawn,
        "rates_kept_refused": outcome.kept_refused,
        "rows": outcome.row_count,
        "rejects": outcome.reject_count,
        **unknown,
        **changes_metadata(outcome.changes),
    }


def _diverted(outcome: stages.Diverted) -> dict[str, str | int]:
    return {
        "snapshot_id": outcome.snapshot_id,
        "alias_of": outcome.same_as,
        "rows": 0,  # nothing loaded: its rows are same_as's
        "rejects": 0,
        "changes": 0,
        "change_types": outcome.note,
    }


def feed_job(assets: FeedAssets, settings: Settings):  # -> an unresolved asset job (not public)
    from pipeline.defs import group_selection

    return dg.define_asset_job(
        f"{assets.feed.name}_daily",
        selection=group_selection(assets.feed.name, settings),
        description=assets.job_description,
    )
