"""``build_report``: the unreported changes of every section, rendered into one email."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import duckdb

from pipeline import clock
from pipeline.reports.attachments import report_attachments
from pipeline.reports.chart import change_chart
from pipeline.reports.model import ChangeSection, Report
from pipeline.reports.reconcile import (
    ahead_line,
    dispute_attachment,
    reconciliation,
    template_values,
)
from pipeline.reports.render import render_html, render_text, subject, template_context
from pipeline.reports.sms import sms_section
from pipeline.reports.voice import voice_section
from pipeline.settings import Settings

SectionBuilder = Callable[..., ChangeSection | None]
# One builder per kind of change (report_change.kind), in the order the email shows them.
SECTION_BUILDERS: tuple[SectionBuilder, ...] = (voice_section, sms_section)
CHART_CID = "ratedeck-chart"


def build_report(
    con: duckdb.DuckDBPyConnection, settings: Settings, *, now: datetime | None = None
) -> Report | None:
    """The report of every change not yet reported, or None when there is none (no email).

    Read-only: nothing is marked as reported until :func:`send_report` delivered it. ``now``
    defaults to :func:`pipeline.clock.utc_now`, the clock the fetches were stamped with: what
    is still announced, the title, the Date header and the attachment names all follow it (the
    demo replays past market days; on the wall clock their dated changes were all in force).
    """
    now = now or clock.utc_now()
    sections = [
        section
        for build in SECTION_BUILDERS
        if (section := build(con, settings, now=now)) is not None
    ]
    if not sections:
        return None
    report_settings = settings.report
    stamp = now.astimezone(UTC).strftime("%Y%m%d-%H%M")
    attachments = report_attachments(sections, stamp)
    today = clock.as_utc(now).date()  # the windows' last day: the report's, not the wall's
    reconciled = reconciliation(con, settings, today=today)
    dispute = dispute_attachment(reconciled, stamp) if reconciled else None
    attachments += [dispute] if dispute else []
    all_rows = [row for s in sections for row in s.rows]
    chart = change_chart(all_rows, currency=report_settings.currency, top_n=10)
    title = subject(sections, currency=report_settings.currency)
    context = template_context(
        sections,
        created_at=now,
        top_n=report_settings.top_n,
        currency=report_settings.currency,
        notice_days=report_settings.notice_days,
        reference_call_seconds=report_settings.reference_call_seconds,
        chart_cid=CHART_CID if chart else None,
        attachments=[a.filename for a in attachments],
    )
    context["subject"] = title
    context["reconciliation"] = template_values(reconciled, report_settings.currency)
    context["ahead_line"] = ahead_line(con, today=today)
    return Report(
        created_at=now,
        subject=title,
        sender=settings.smtp.sender,
        recipients=tuple(report_settings.recipients),
        text=render_text(context),
        html=render_html(context),
        chart_png=chart,
        chart_cid=CHART_CID,
        attachments=tuple(attachments),
        sections=tuple(sections),
        dispute_keys=reconciled.dispute_keys if reconciled else (),
    )
