"""The price-change report asset: after the loads, email finance what changed (exactly once)."""

import dagster as dg

from pipeline.defs.common import WAREHOUSE_POOL
from pipeline.defs.resources import MailerResource, WarehouseResource, applied
from pipeline.reports.send import report_and_send
from pipeline.settings import Settings


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
    def price_change_report(
        warehouse: WarehouseResource, mailer: MailerResource
    ) -> dg.MaterializeResult:
        run_settings = applied(settings, warehouse, mailer)
        delivery = report_and_send(warehouse.get_warehouse(run_settings), run_settings)
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
