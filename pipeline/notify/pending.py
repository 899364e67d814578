"""Pending deliveries: an email is recorded, exact bytes and all, BEFORE it is sent.

Why: the server can accept a message and the process die before the ledger says so (the
classic lost acknowledgement). Without a record, the next run would build a NEW message (new
Message-ID, more changes) around the same content, and finance would get the same changes
twice under two ids. With it, the next run first resends exactly the recorded message (same
bytes, same Message-ID, which mail clients treat as one message) and only then builds
anything new; the changes the pending message covers belong to it and to no other message.

Lifecycle (each step its own committed transaction, ``con`` not inside one):
  1. :func:`begin`: the row (and a report's change ids) is committed;
  2. the message is delivered (:func:`deliver_pending`);
  3. the caller records the delivery and calls :func:`forget` in ONE transaction.
A failed attempt keeps the row when the server may have accepted the message (and always
once a crash or ambiguous failure made it pending across runs); a definite first-attempt
refusal drops it (:func:`settle_failure`), so a corrected configuration builds afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

import duckdb

from pipeline.notify import Sent, deliver_raw
from pipeline.notify.smtp import envelope
from pipeline.settings import Settings
from pipeline.warehouse.history import transaction
from pipeline.warehouse.migrate import read_sql


@dataclass(frozen=True)
class Pending:
    name: str  # identity and outbox file name
    purpose: str  # report | low-balance
    message_id: str
    mail_from: str
    rcpt_to: tuple[str, ...]
    subject: str
    raw: bytes  # exactly what is sent or written
    created_at: datetime
    attempts: int  # deliveries begun, this one included
    change_count: int = 0  # report changes it covers

    @property
    def resent(self) -> bool:
        """Begun in an earlier attempt: the server may already hold it."""
        return self.attempts > 1


def begin(
    con: duckdb.DuckDBPyConnection,
    *,
    name: str,
    purpose: str,
    message: EmailMessage,
    created_at: datetime,
    with_report_keys: bool = False,
) -> Pending:
    """Commit ``message`` as pending (with the changes in ``report_keys`` and the days of
    disputed calls in ``report_dispute_keys`` when asked)."""
    mail_from, rcpt_to = envelope(message)
    raw = message.as_bytes()
    row = [
        name,
        purpose,
        str(message["Message-ID"]),
        mail_from,
        rcpt_to,
        str(message["Subject"]),
        raw,
        created_at,
    ]
    with transaction(con):
        con.execute(read_sql("queries/delivery_pending_insert.sql"), row)
        if with_report_keys:
            con.execute(read_sql("queries/delivery_pending_change_insert.sql"), [name])
            con.execute(read_sql("queries/delivery_pending_dispute_insert.sql"), [name])
    [found] = [p for p in pending(con, purpose) if p.name == name]
    return found


def pending(con: duckdb.DuckDBPyConnection, purpose: str) -> list[Pending]:
    """The pending deliveries of ``purpose``, oldest first."""
    rows = con.execute(read_sql("queries/delivery_pending_list.sql"), [purpose]).fetchall()
    return [
        Pending(name, kind, mid, sender, tuple(rcpt), subject, bytes(raw), at, tries, count)
        for name, kind, mid, sender, rcpt, subject, raw, at, tries, count in rows
    ]


def retry(con: duckdb.DuckDBPyConnection, item: Pending) -> Pending:
    """Count one more attempt (committed) before resending ``item``."""
    con.execute("UPDATE pending_delivery SET attempts = attempts + 1 WHERE name = ?", [item.name])
    return Pending(**{**item.__dict__, "attempts": item.attempts + 1})


def deliver_pending(item: Pending, settings: Settings) -> Sent:
    """Send (or write) the recorded bytes, unchanged."""
    return deliver_raw(item.raw, item.mail_from, list(item.rcpt_to), settings, name=item.name)


def keeps_after(item: Pending, exc: BaseException) -> bool:
    """After a failed attempt, must ``item`` stay pending? Yes when the server may hold it."""
    return item.resent or bool(getattr(exc, "possibly_delivered", False))


def settle_failure(con: duckdb.DuckDBPyConnection, item: Pending, exc: BaseException) -> bool:
    """Keep (with the error) or drop ``item`` after a failed attempt; returns kept. Call it
    inside the caller's transaction that records the failure."""
    if keeps_after(item, exc):
        con.execute(
            "UPDATE pending_delivery SET last_error = ? WHERE name = ?",
            [one_line(exc), item.name],
        )
        return True
    forget(con, item)
    return False


def forget(con: duckdb.DuckDBPyConnection, item: Pending) -> None:
    """Remove ``item`` (delivered, or definitely not): inside the caller's transaction."""
    con.execute("DELETE FROM pending_delivery_change WHERE name = ?", [item.name])
    con.execute("DELETE FROM pending_delivery_dispute WHERE name = ?", [item.name])
    con.execute("DELETE FROM pending_delivery WHERE name = ?", [item.name])


def one_line(exc: BaseException, text: str | None = None) -> str:
    """``exc`` on one line, or ``text`` (a redacted rendering of it); its class name if empty."""
    flat = " ".join((str(exc) if text is None else text).split())
    return flat or type(exc).__name__


__all__ = [
    "Pending",
    "begin",
    "deliver_pending",
    "forget",
    "keeps_after",
    "pending",
    "retry",
    "settle_failure",
    "transaction",
]
