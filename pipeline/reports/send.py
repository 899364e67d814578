"""Sending a report: each change reaches finance in exactly one message (one Message-ID).

Order of events:
  1. resend every pending report (see below) before anything new;
  2. refuse a stale report (any of its changes already reported or pending);
  3. commit the message as pending: its exact bytes, Message-ID and change ids
     (:mod:`pipeline.notify.pending`);
  4. deliver it (SMTP, or an .eml in the outbox);
  5. in ONE transaction: insert report_log + report_change rows (primary key (kind,
     change_id): a change can never be recorded twice) and forget the pending row.
A crash between 4 and 5 leaves the row pending: the next run's step 1 sends the identical
message again (same bytes, same Message-ID: at least once, never under a second id) and
marks its changes reported, so they are never part of a new report. A failed delivery
records a ``failed`` report_log row and re-raises; its changes stay unreported and the
message is dropped when the server certainly did not take it (a refusal, no connection),
else kept pending for the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import polars as pl

from pipeline.notify import Sent, pending
from pipeline.notify.errors import DeliveryError
from pipeline.notify.pending import Pending
from pipeline.reports.build import build_report
from pipeline.reports.errors import StaleReportError
from pipeline.reports.model import Report
from pipeline.settings import Settings
from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.migrate import read_sql
from pipeline.warehouse.report_setting import record_report_setting

log = logging.getLogger(__name__)
STATUS = {"smtp": "sent", "outbox": "outboxed"}
PURPOSE = "report"
DISPUTE_KEY_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "call_day": pl.Date,
    "digest": pl.String,
    "calls": pl.Int64,
    "cost_difference": pl.Decimal(18, 8),  # exact, as report_dispute stores it
}


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
    resent: bool = False  # a pending message from an earlier, interrupted run


def send_report(con: duckdb.DuckDBPyConnection, settings: Settings, report: Report) -> Delivery:
    """Deliver ``report`` and mark its changes reported; raises DeliveryError (changes stay
    unreported) or StaleReportError. ``con`` must be writable and not inside a transaction.
    Pending reports of earlier runs are resent first (:func:`resend_pending`)."""
    resend_pending(con, settings)
    with _report_keys(con, report):
        reported = con.sql(read_sql("queries/report_already_reported.sql")).fetchall()[0][0]
        in_pending = con.sql(read_sql("queries/delivery_pending_taken.sql")).fetchall()[0][0]
        taken = reported + in_pending  # a pending message covers the latter
        if taken:
            raise StaleReportError(
                f"{taken} of the report's {report.change_count} changes were reported "
                "since it was built: build it again"
            )
        [(disputes_taken,)] = con.sql(read_sql("queries/report_dispute_taken.sql")).fetchall()
        if disputes_taken:
            raise StaleReportError(
                f"the disputed calls of {disputes_taken} day(s) in the report were reported "
                "since it was built: build it again"
            )
        item = pending.begin(
            con,
            name=report.digest,
            purpose=PURPOSE,
            message=report.to_message(),
            created_at=report.created_at.astimezone(UTC),
            with_report_keys=True,
        )
    return _deliver(con, settings, item)


def resend_pending(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[Delivery]:
    """Send again, byte for byte, every report an earlier run began but did not record as
    delivered; raises DeliveryError (the message stays pending) on the first failure."""
    delivered = []
    for item in pending.pending(con, PURPOSE):
        log.warning("report %s: resending the pending message %s", item.name, item.message_id)
        delivered.append(_deliver(con, settings, pending.retry(con, item)))
    return delivered


def report_and_send(
    wh_or_con: Warehouse | duckdb.DuckDBPyConnection,
    settings: Settings,
    *,
    now: datetime | None = None,
) -> Delivery | None:
    """Resend pending reports, then build the report of unreported changes and send it;
    None when there was nothing to send. Given a Warehouse, works in its writer (locked,
    published on success). Returns the new report's delivery, else the last resent one."""
    if isinstance(wh_or_con, Warehouse):
        with wh_or_con.writer() as con:
            return report_and_send(con, settings, now=now)
    record_report_setting(wh_or_con, settings.report)  # the view judges up/down like the email
    resent = resend_pending(wh_or_con, settings)
    report = build_report(wh_or_con, settings, now=now)
    if report is None:
        return resent[-1] if resent else None
    return send_report(wh_or_con, settings, report)


def _deliver(con: duckdb.DuckDBPyConnection, settings: Settings, item: Pending) -> Delivery:
    try:
        sent = pending.deliver_pending(item, settings)
    except DeliveryError as exc:
        _record_failure(con, item, exc)
        raise
    report_id = _record_delivery(con, item, sent)
    log.info("report %s: %s to %s", report_id, STATUS[sent.transport], sent.target)
    return Delivery(
        report_id=report_id,
        status=STATUS[sent.transport],
        transport=sent.transport,
        target=sent.target,
        message_id=item.message_id,
        subject=item.subject,
        recipients=item.rcpt_to,
        change_count=item.change_count,
        sent_at=sent.sent_at,
        resent=item.resent,
    )


@contextmanager
def _report_keys(con: duckdb.DuckDBPyConnection, report: Report) -> Iterator[None]:
    keys = pl.DataFrame(report.change_keys, schema=["kind", "change_id"], orient="row")
    disputes = pl.DataFrame(report.dispute_keys, schema=DISPUTE_KEY_SCHEMA, orient="row")
    con.register("report_keys", keys)
    con.register("report_dispute_keys", disputes)
    try:
        yield
    finally:
        con.unregister("report_keys")
        con.unregister("report_dispute_keys")


def _record_delivery(con: duckdb.DuckDBPyConnection, item: Pending, sent: Sent) -> int:
    with pending.transaction(con):
        report_id = _insert_log(
            con,
            item,
            sent.transport,
            sent.target,
            STATUS[sent.transport],
            sent_at=sent.sent_at,
            error=None,
        )
        con.execute(read_sql("queries/report_change_from_pending.sql"), [report_id, item.name])
        con.execute(read_sql("queries/report_dispute_from_pending.sql"), [report_id, item.name])
        pending.forget(con, item)
    return report_id


def _record_failure(con: duckdb.DuckDBPyConnection, item: Pending, exc: DeliveryError) -> None:
    """Best effort: the failure is history worth keeping, but must not hide the real error.
    Keeping or dropping the pending message is not best effort: a kept one must stay."""
    transport = "smtp" if exc.target.startswith("smtp") else "outbox"
    try:
        with pending.transaction(con):
            pending.settle_failure(con, item, exc)
            _insert_log(con, item, transport, exc.target, "failed", sent_at=None, error=str(exc))
    except duckdb.Error:
        log.warning("could not record the failed report delivery", exc_info=True)


def _insert_log(
    con: duckdb.DuckDBPyConnection,
    item: Pending,
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
            item.message_id,
            item.mail_from,
            list(item.rcpt_to),
            item.subject,
            item.change_count,
            item.created_at,
            sent_at,
            error,
        ],
    ).fetchall()
    return row[0][0]
