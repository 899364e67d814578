"""Email delivery: SMTP when ``smtp.host`` is set, else an ``.eml`` file in the outbox folder.

``deliver(message, settings, name=...)`` returns a :class:`Sent`; failures raise
:class:`pipeline.notify.errors.DeliveryError` subclasses (never containing a secret).
``deliver_raw`` sends exact bytes (a pending message resent after a crash, see
:mod:`pipeline.notify.pending`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Literal

from pipeline import clock
from pipeline.notify.outbox import write_eml, write_raw
from pipeline.notify.smtp import envelope, send_raw, send_smtp
from pipeline.redaction import configured_secrets
from pipeline.settings import Settings


@dataclass(frozen=True)
class Sent:
    transport: Literal["smtp", "outbox"]
    target: str  # smtp://host:port, or the .eml path
    sent_at: datetime


def deliver(message: EmailMessage, settings: Settings, *, name: str) -> Sent:
    """Send over SMTP, or (no SMTP host) write ``<outbox_dir>/<name>.eml``."""
    mail_from, rcpt_to = envelope(message)
    return deliver_raw(message.as_bytes(), mail_from, rcpt_to, settings, name=name)


def deliver_raw(
    raw: bytes, mail_from: str, rcpt_to: list[str], settings: Settings, *, name: str
) -> Sent:
    """``deliver`` for a message already serialised: the bytes go out unchanged."""
    if settings.smtp.host:
        target = send_raw(
            raw,
            mail_from,
            list(rcpt_to),
            settings.smtp,
            user=settings.secrets.smtp_user,
            password=settings.secrets.smtp_password,
            secrets=configured_secrets(settings),  # a relay may echo any of them
        )
        return Sent("smtp", target, clock.utc_now())
    path = write_raw(raw, settings.outbox_dir, name)
    return Sent("outbox", str(path), clock.utc_now())  # the clock the email is dated by


__all__ = ["Sent", "deliver", "deliver_raw", "send_raw", "send_smtp", "write_eml", "write_raw"]
