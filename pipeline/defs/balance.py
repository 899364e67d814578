"""Balance assets: an hourly /customer snapshot and the low-balance alert after it."""

import dagster as dg

from pipeline.defs.common import WAREHOUSE_POOL, fetch_retry_policy, retried_only_if_transient
from pipeline.defs.resources import CommPeakResource, MailerResource, WarehouseResource, applied
from pipeline.errors import RunFailed
from pipeline.notify.balance_alert import AlertOutcome, money
from pipeline.settings import Settings
from pipeline.stages import balance as stages


def build_balance_defs(settings: Settings) -> list:
    @dg.asset(
        group_name="balance",
        kinds={"http", "duckdb"},
        pool=WAREHOUSE_POOL,
        retry_policy=fetch_retry_policy(settings),
        description="balance_snapshot: balance, SMS balance and credit from GET /customer.",
    )
    def balance_snapshot(
        commpeak: CommPeakResource, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        run_settings = applied(settings, commpeak, warehouse)
        with retried_only_if_transient(), commpeak.create_client(run_settings) as client:
            landed = stages.fetch_customer(run_settings, client)
        loaded = stages.load_customer(run_settings, landed)
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
    def low_balance_alert(
        warehouse: WarehouseResource, mailer: MailerResource
    ) -> dg.MaterializeResult:
        outcome = stages.alert_on_low_balance(applied(settings, warehouse, mailer))
        if outcome.failed:
            raise RunFailed(f"low-balance alert not delivered (retried next run): {outcome.error}")
        return dg.MaterializeResult(
            metadata={
                "status": outcome.status,
                "balance": str(outcome.balance),
                "summary": alert_summary(outcome, settings.report.currency),
            },
        )

    return [balance_snapshot, low_balance_alert]


ALERT_NOTES = {"sent": "low-balance alert sent", "already_sent": "low-balance alert sent earlier"}


def alert_summary(outcome: AlertOutcome, currency: str) -> str:
    """What the balance is and whether an alert went out: "alert above_threshold" read as if
    one had fired."""
    if outcome.balance is None:
        return "no balance snapshot yet"
    text = (
        f"balance {grouped(outcome.balance)} {currency} "
        f"(alert threshold {grouped(outcome.threshold)})"
    )
    note = ALERT_NOTES.get(outcome.status)
    return f"{text}: {note}" if note else text


def grouped(amount) -> str:
    """1234.5 -> 1,234.50: exact (no rounding), thousands separated for reading at a glance."""
    whole, _, frac = money(amount).partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-')):,}.{frac}"
