"""The price-change report for finance: build it from the unreported changes, send it once.

report = build_report(con, settings)           # None: nothing to report, no email
delivery = send_report(con, settings, report)  # SMTP or outbox; marks the changes reported
delivery = report_and_send(Warehouse(settings), settings)   # both, in the writer
"""

from __future__ import annotations

from pipeline.reports.build import build_report
from pipeline.reports.model import ChangeRow, ChangeSection, Report
from pipeline.reports.send import Delivery, report_and_send, send_report

__all__ = [
    "ChangeRow",
    "ChangeSection",
    "Delivery",
    "Report",
    "build_report",
    "report_and_send",
    "send_report",
]
