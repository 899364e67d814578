"""The ``[report]`` settings the warehouse's views need, stored in ``report_setting``.

``voice_rate_change`` judges up/down by the reference call the finance email uses; a view
cannot read the settings file, so ratedeck records them whenever it writes the warehouse for a
feed's load (``stages/feed.py``) or a report (the email and the view then count the same way).
"""

from __future__ import annotations

import duckdb

from pipeline.settings import ReportSettings
from pipeline.warehouse.migrate import read_sql


def record_report_setting(con: duckdb.DuckDBPyConnection, report: ReportSettings) -> None:
    """Store ``report.reference_call_seconds`` and ``cost_decimals`` (no write when unchanged)."""
    con.execute(
        read_sql("queries/report_setting_record.sql"),
        {"seconds": report.reference_call_seconds, "decimals": report.cost_decimals},
    )
