"""Voice assets, partitioned by tech prefix: raw deck -> normalised deck -> history."""
# No "from __future__ import annotations" here: Dagster inspects annotations at definition time.
# An asset with check_specs has several outputs; annotated "-> MaterializeResult" Dagster then
# types its value output as Nothing and refuses the value. So those assets carry no annotation.

import dagster as dg

from pipeline.commpeak.client import CommPeakClient
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
from pipeline.landing import LandedFile
from pipeline.settings import Settings
from pipeline.stages import voice as stages

VOICE_CHECKS = {
    "non_empty": "The deck has at least one valid row.",
    "no_duplicate_prefix": "No prefix appears twice for one effective date.",
    "prices_not_negative": "No negative price.",
    "row_count_not_collapsed": "Row count did not fall more than voice.max_row_drop_fraction "
    "against the last snapshot (what a truncated download looks like).",
}


def build_voice_defs(settings: Settings) -> tuple[list, list]:
    partitions = dg.StaticPartitionsDefinition(list(settings.voice.tech_prefixes))

    @dg.asset(
        partitions_def=partitions,
        group_name="voice",
        kinds={"http"},
        pool=API_POOL,
        retry_policy=fetch_retry_policy(settings),
        description="The voice rate deck as downloaded, kept byte for byte in data/raw/voice/.",
    )
    def voice_deck_raw(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        with retried_only_if_transient(), CommPeakClient.from_settings(settings) as client:
            landed = stages.fetch_voice_deck(settings, client, context.partition_key)
        return dg.MaterializeResult(
            value=landed,
            metadata=landed_metadata(landed),
        )

    @dg.asset(
        partitions_def=partitions,
        group_name="voice",
        kinds={"polars"},
        check_specs=deck_check_specs("voice_deck", VOICE_CHECKS),
        description="The deck normalised with polars: digits-only prefixes, exact prices, "
        "parsed increments; refused rows kept with reasons. Blocking checks stop the load.",
    )
    def voice_deck(voice_deck_raw: LandedFile):  # no return annotation: see module note
        deck = stages.normalise_voice_deck(settings, voice_deck_raw)
        rows = deck.rows()  # read once: for the preview and the checks
        return dg.MaterializeResult(
            value=deck,
            metadata={
                "rows": deck.row_count,
                "rejects": deck.reject_count,
                "format": deck.source_format,
                "notes": "; ".join(deck.notes) or "none",
                "preview": markdown_preview(rows),
                "rejects_preview": markdown_preview(deck.rejects()),
            },
            check_results=[
                check_result(o) for o in stages.check_voice_deck(settings, deck.landed.source, rows)
            ],
        )

    @dg.asset(
        partitions_def=partitions,
        group_name="voice",
        kinds={"duckdb"},
        pool=WAREHOUSE_POOL,
        description="voice_snapshot + voice_rate history in the warehouse (one transaction).",
    )
    def voice_rate_history(
        context: dg.AssetExecutionContext, voice_deck: stages.NormalisedDeck
    ) -> dg.MaterializeResult:
        outcome = stages.load_voice_deck(settings, voice_deck)
        if isinstance(outcome, stages.DeckAlias):  # the same deck as another tech prefix's
            context.log.warning(f"{outcome.tech_prefix}: {outcome.note}")
            return dg.MaterializeResult(
                value=outcome.snapshot_id,
                metadata={
                    "snapshot_id": outcome.snapshot_id,
                    "alias_of": outcome.same_as,
                    "rows": 0,  # nothing loaded: its rows are same_as's
                    "rejects": 0,
                    "changes": 0,
                    "change_types": outcome.note,
                },
            )
        return dg.MaterializeResult(
            value=outcome.snapshot_id,
            metadata={
                "snapshot_id": outcome.snapshot_id,
                "replayed": outcome.replayed,
                "rates_opened": outcome.opened,
                "rates_closed": outcome.closed,
                "rates_withdrawn": outcome.withdrawn,
                "rows": voice_deck.row_count,
                "rejects": voice_deck.reject_count,
                **changes_metadata(outcome.changes),
            },
        )

    return [voice_deck_raw, voice_deck, voice_rate_history], []
