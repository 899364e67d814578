"""The price-change report asset: after the loads, email finance what changed (exactly once)."""

import dagster as dg

from pipeline.defs.common import WAREHOUSE_POOL
from pipeline.reports.send import report_and_send
from pipeline.settings import Settings
from pipeline.warehouse.db import Warehouse


def build_report_defs(settings: Settings) -> list:
    upstream = ["voice_rate_history"] + (["sms_rate_history"] if settings.sms.channels else [])

    @dg.asset(
        group_name="report",
        kinds={"email", "duckdb"},
        pool=WAREHOUSE_POOL,
        deps=upstream,
        description="Price-change report of every change not yet reported: SMTP, or an .eml "
        "in data/outbox/ when no SMTP host is set. report_log makes it exactly once.",
    )
    def price_change_report() -> dg.MaterializeResult:
        delivery = report_and_send(Warehouse(settings), settings)
        if delivery is None:
            return dg.MaterializeResult(metadata={"changes": 0, "summary": "nothing to report"})
        return dg.MaterializeResult(
            metadata={
                "changes": delivery.change_count,
                "subject": delivery.subject,
                "status": delivery.status,
                "target": delivery.target,
                "report_id": delivery.report_id,
                "summary": f"{delivery.change_count} changes {delivery.status}",
            }
        )

    return [price_change_report]
