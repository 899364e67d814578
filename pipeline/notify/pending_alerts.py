"""Alerts that could not be delivered, kept as files until a later attempt delivers them.

Why: Dagster's run-failure sensor moves its cursor past a failed run even when its email could
not be sent (SMTP down), so without a copy the alert would be lost for good. The exact message
bytes are kept as ``<state dir>/pending_alerts/<name>.eml`` (written atomically); the sensor
``retry_pending_alerts`` resends each one unchanged (same Message-ID) and removes a file only
after its delivery succeeded.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from pipeline.durable import fsync_dir
from pipeline.notify import Sent, deliver_raw
from pipeline.notify.errors import NotifyError
from pipeline.notify.outbox import write_raw
from pipeline.notify.pending import one_line
from pipeline.notify.smtp import envelope
from pipeline.redaction import configured_secrets, redact
from pipeline.settings import Settings


@dataclass(frozen=True)
class Resent:
    delivered: list[str]  # names of the alerts delivered and no longer pending
    failed: list[str]  # "<name>: <one-line error>", still pending


def pending_alerts_dir(settings: Settings) -> Path:
    return settings.state_dir / "pending_alerts"


def deliver_or_keep(message: EmailMessage, settings: Settings, *, name: str) -> Sent:
    """Deliver ``message``; when that fails, keep its bytes as pending, then re-raise."""
    raw = message.as_bytes()
    mail_from, rcpt_to = envelope(message)
    try:
        return deliver_raw(raw, mail_from, rcpt_to, settings, name=name)
    except NotifyError:
        write_raw(raw, pending_alerts_dir(settings), name)
        raise


def resend_pending(settings: Settings) -> Resent:
    """Resend every pending alert, oldest name first; a delivered one stops being pending."""
    delivered, failed = [], []
    secrets = configured_secrets(settings)
    for path in sorted(pending_alerts_dir(settings).glob("*.eml")):
        try:
            resend(path, settings)
        except (NotifyError, OSError, ValueError) as exc:  # unreadable, unparsable, refused
            # delivery errors are scrubbed already; any other text is scrubbed here
            failed.append(f"{path.stem}: {one_line(exc, redact(str(exc), secrets))}")
            continue
        delivered.append(path.stem)
    return Resent(delivered, failed)


def resend(path: Path, settings: Settings) -> Sent:
    raw = path.read_bytes()
    mail_from, rcpt_to = envelope(message_from_bytes(raw, policy=policy.default))
    sent = deliver_raw(raw, mail_from, rcpt_to, settings, name=path.stem)
    with contextlib.suppress(FileNotFoundError):  # an overlapping tick removed it first
        path.unlink()
    fsync_dir(path.parent)
    return sent


__all__ = ["Resent", "deliver_or_keep", "pending_alerts_dir", "resend_pending"]
