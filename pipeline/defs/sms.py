"""SMS assets, partitioned by channel (username:id): raw rates -> normalised -> history."""
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
from pipeline.stages import sms as stages

SMS_CHECKS = {
    "no_duplicate_prefix": "No MCC/MNC pair appears twice.",
    "prices_not_negative": "No negative rate.",
}


def build_sms_defs(settings: Settings) -> tuple[list, list]:
    if not settings.sms.channels:
        return [], []
    partitions = dg.StaticPartitionsDefinition([c.key for c in settings.sms.channels])

    @dg.asset(
        partitions_def=partitions,
        group_name="sms",
        kinds={"http"},
        pool=API_POOL,
        retry_policy=fetch_retry_policy(settings),
        description="The SMS rates of one channel as fetched, kept in data/raw/sms/.",
    )
    def sms_rates_raw(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        channel = stages.channel_by_key(settings, context.partition_key)
        with retried_only_if_transient(), CommPeakClient.from_settings(settings) as client:
            landed = stages.fetch_sms_rates(settings, client, channel)
        return dg.MaterializeResult(
            value=landed,
            metadata=landed_metadata(landed),
        )

    @dg.asset(
        partitions_def=partitions,
        group_name="sms",
        kinds={"polars"},
        check_specs=deck_check_specs("sms_rates", SMS_CHECKS),
        description="SMS rates normalised: exact rates per MCC/MNC, refused rows with reasons.",
    )
    def sms_rates(sms_rates_raw: LandedFile):  # no return annotation: see module note
        rates = stages.normalise_sms_rates(settings, sms_rates_raw)
        rows = rates.rows()  # read once: for the preview and the checks
        return dg.MaterializeResult(
            value=rates,
            metadata={
                "rows": rates.row_count,
                "rejects": rates.reject_count,
                "notes": "; ".join(rates.notes) or "none",
                "preview": markdown_preview(rows),
            },
            check_results=[check_result(o) for o in stages.check_sms_rates(rows)],
        )

    @dg.asset(
        partitions_def=partitions,
        group_name="sms",
        kinds={"duckdb"},
        pool=WAREHOUSE_POOL,
        description="sms_snapshot + sms_rate history in the warehouse (one transaction).",
    )
    def sms_rate_history(sms_rates: stages.NormalisedSmsRates) -> dg.MaterializeResult:
        outcome = stages.load_sms_rates(settings, sms_rates)
        return dg.MaterializeResult(
            value=outcome.snapshot_id,
            metadata={
                "snapshot_id": outcome.snapshot_id,
                "replayed": outcome.replayed,
                "rows": outcome.row_count,
                "rejects": outcome.reject_count,
                "unknown_networks": outcome.unknown_count,
                "rates_opened": outcome.opened,
                "rates_closed": outcome.closed,
                **changes_metadata(outcome.changes),
            },
        )

    return [sms_rates_raw, sms_rates, sms_rate_history], []
