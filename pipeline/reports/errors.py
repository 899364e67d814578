"""Report failures (delivery failures are pipeline.notify.errors)."""

from __future__ import annotations

from pipeline.errors import RatedeckError


class ReportError(RatedeckError):
    """The report could not be built or recorded."""


class StaleReportError(ReportError):
    """Some of the report's changes were reported since it was built: build it again."""
