"""Email delivery: SMTP when ``smtp.host`` is set, else an ``.eml`` file in the outbox folder.

``deliver(message, settings, name=...)`` returns a :class:`Sent`; failures raise
:class:`pipeline.notify.errors.DeliveryError` subclasses (never containing a secret).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Literal

from pipeline.notify.outbox import write_eml
from pipeline.notify.smtp import send_smtp
from pipeline.settings import Settings


@dataclass(frozen=True)
class Sent:
    transport: Literal["smtp", "outbox"]
    target: str  # smtp://host:port, or the .eml path
    sent_at: datetime


def deliver(message: EmailMessage, settings: Settings, *, name: str) -> Sent:
    """Send over SMTP, or (no SMTP host) write ``<outbox_dir>/<name>.eml``."""
    if settings.smtp.host:
        target = send_smtp(
            message,
            settings.smtp,
            user=settings.secrets.smtp_user,
            password=settings.secrets.smtp_password,
        )
        return Sent("smtp", target, datetime.now(UTC))
    path = write_eml(message, settings.outbox_dir, name)
    return Sent("outbox", str(path), datetime.now(UTC))


__all__ = ["Sent", "deliver", "send_smtp", "write_eml"]
