"""Balance assets: an hourly /customer snapshot and the low-balance alert after it."""

import dagster as dg

from pipeline.commpeak.client import CommPeakClient
from pipeline.defs.common import WAREHOUSE_POOL
from pipeline.errors import RunFailed
from pipeline.settings import Settings
from pipeline.stages import balance as stages


def build_balance_defs(settings: Settings) -> list:
    @dg.asset(
        group_name="balance",
        kinds={"http", "duckdb"},
        pool=WAREHOUSE_POOL,
        description="balance_snapshot: balance, SMS balance and credit from GET /customer.",
    )
    def balance_snapshot() -> dg.MaterializeResult:
        with CommPeakClient.from_settings(settings) as client:
            landed = stages.fetch_customer(settings, client)
        loaded = stages.load_customer(settings, landed)
        return dg.MaterializeResult(
            metadata={
                "snapshot_id": loaded.snapshot_id,
                "balance": str(loaded.balance),
                "replayed": loaded.replayed,
                "path": landed.relative_path,
            },
        )

    @dg.asset(
        group_name="balance",
        kinds={"email", "duckdb"},
        pool=WAREHOUSE_POOL,
        deps=[balance_snapshot],
        description="Emails finance once per crossing of balance.low_balance_threshold.",
    )
    def low_balance_alert() -> dg.MaterializeResult:
        outcome = stages.alert_on_low_balance(settings)
        if outcome.failed:
            raise RunFailed(f"low-balance alert not delivered (retried next run): {outcome.error}")
        return dg.MaterializeResult(
            metadata={
                "status": outcome.status,
                "balance": str(outcome.balance),
                "summary": f"alert {outcome.status}",
            },
        )

    return [balance_snapshot, low_balance_alert]
