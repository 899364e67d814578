"""Sending a report exactly once per change (at least once in one narrow crash window).

Order of events:
  1. refuse a stale report (any of its changes already reported);
  2. deliver it (SMTP, or an .eml in the outbox);
  3. in ONE transaction: insert report_log + report_change rows (primary key (kind,
     change_id): a change can never be recorded twice).
A failed delivery records a ``failed`` report_log row (no report_change rows) and re-raises:
its changes stay unreported and the next run retries them. A crash between 2 and 3 means the
next run sends the same change set again: it carries the same Message-ID (derived from the
change ids) and, for the outbox, overwrites the same file, so duplicates are recognisable.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import polars as pl

from pipeline.notify import Sent, deliver
from pipeline.notify.errors import DeliveryError
from pipeline.reports.build import build_report
from pipeline.reports.errors import StaleReportError
from pipeline.reports.model import Report
from pipeline.settings import Settings
from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.migrate import read_sql
from pipeline.warehouse.report_setting import record_report_setting

log = logging.getLogger(__name__)
STATUS = {"smtp": "sent", "outbox": "outboxed"}


@dataclass(frozen=True)
class Delivery:
    report_id: int
    status: str  # sent (SMTP accepted it) | outboxed (.eml written)
    transport: str  # smtp | outbox
    target: str  # smtp://host:port, or the .eml path
    message_id: str
    subject: str
    recipients: tuple[str, ...]
    change_count: int
    sent_at: datetime


def send_report(con: duckdb.DuckDBPyConnection, settings: Settings, report: Report) -> Delivery:
    """Deliver ``report`` and mark its changes reported; raises DeliveryError (changes stay
    unreported) or StaleReportError. ``con`` must be writable and not inside a transaction."""
    with _report_keys(con, report):
        already = con.sql(read_sql("queries/report_already_reported.sql")).fetchall()[0][0]
        if already:
            raise StaleReportError(
                f"{already} of the report's {report.change_count} changes were reported "
                "since it was built: build it again"
            )
        try:
            sent = deliver(report.to_message(), settings, name=report.digest)
        except DeliveryError as exc:
            _record_failure(con, report, exc)
            raise
        report_id = _record_delivery(con, report, sent)
    log.info("report %s: %s to %s", report_id, STATUS[sent.transport], sent.target)
    return Delivery(
        report_id=report_id,
        status=STATUS[sent.transport],
        transport=sent.transport,
        target=sent.target,
        message_id=report.message_id,
        subject=report.subject,
        recipients=report.recipients,
        change_count=report.change_count,
        sent_at=sent.sent_at,
    )


def report_and_send(
    wh_or_con: Warehouse | duckdb.DuckDBPyConnection,
    settings: Settings,
    *,
    now: datetime | None = None,
) -> Delivery | None:
    """Build the report of unreported changes and send it; None when there is nothing to
    report. Given a Warehouse, works in its writer (locked, published on success)."""
    if isinstance(wh_or_con, Warehouse):
        with wh_or_con.writer() as con:
            return report_and_send(con, settings, now=now)
    record_report_setting(wh_or_con, settings.report)  # the view judges up/down like the email
    report = build_report(wh_or_con, settings, now=now)
    if report is None:
        return None
    return send_report(wh_or_con, settings, report)


@contextmanager
def _report_keys(con: duckdb.DuckDBPyConnection, report: Report) -> Iterator[None]:
    keys = pl.DataFrame(report.change_keys, schema=["kind", "change_id"], orient="row")
    con.register("report_keys", keys)
    try:
        yield
    finally:
        con.unregister("report_keys")


def _record_delivery(con: duckdb.DuckDBPyConnection, report: Report, sent: Sent) -> int:
    con.execute("BEGIN TRANSACTION")
    try:
        report_id = _insert_log(
            con,
            report,
            sent.transport,
            sent.target,
            STATUS[sent.transport],
            sent_at=sent.sent_at,
            error=None,
        )
        con.execute(read_sql("queries/report_change_insert.sql"), [report_id])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return report_id


def _record_failure(con: duckdb.DuckDBPyConnection, report: Report, exc: DeliveryError) -> None:
    """Best effort: the failure is history worth keeping, but must not hide the real error."""
    transport = "smtp" if exc.target.startswith("smtp") else "outbox"
    try:
        _insert_log(con, report, transport, exc.target, "failed", sent_at=None, error=str(exc))
    except duckdb.Error:
        log.warning("could not record the failed report delivery", exc_info=True)


def _insert_log(
    con: duckdb.DuckDBPyConnection,
    report: Report,
    transport: str,
    target: str,
    status: str,
    *,
    sent_at: datetime | None,
    error: str | None,
) -> int:
    row = con.execute(
        read_sql("queries/report_log_insert.sql"),
        [
            status,
            transport,
            target,
            report.message_id,
            report.sender,
            list(report.recipients),
            report.subject,
            report.change_count,
            report.created_at.astimezone(UTC),
            sent_at,
            error,
        ],
    ).fetchall()
    return row[0][0]
