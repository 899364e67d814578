"""Alerts go through an outbox: kept as files before they are sent, removed once delivered.

Why: Dagster's run-failure sensor moves its cursor past a failed run even when its email could
not be sent (SMTP down), and a sender can die in the middle of a send. So the exact message
bytes are written durably (temp file, fsync, link) as ``<state dir>/pending_alerts/<name>.eml``
*before* the send, and the file is removed only after the server accepted the message. The
sensor ``retry_pending_alerts`` resends whatever is left, unchanged (same Message-ID); a sender
that evaluates the same alert again (Dagster re-evaluates a run whose tick died) resends the
kept bytes rather than a new message. The worst case is the same message twice (the sender died
after the server accepted it), never a lost alert.

A sender holds an exclusive ``flock`` on the file for as long as it sends, taken before the file
appears under its name; another sender skips a file it cannot lock, so the retry sensor never
sends an alert the failure sensor is sending at that moment. The lock dies with its process: a
file left by a killed sender is free at once. A file is only removed by its lock holder, and a
new one never replaces an old one (``os.link`` fails on an existing name).
"""

from __future__ import annotations

import fcntl
import logging
import os
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import BinaryIO

from pipeline.durable import (
    OwnedTemporary,
    fsync_dir,
    remove_quietly,
    remove_stale_temporaries,
)
from pipeline.errors import os_error_reason
from pipeline.notify import Sent, deliver_raw
from pipeline.notify.errors import NotifyError
from pipeline.notify.outbox import remove_stale_temp_files
from pipeline.notify.pending import one_line
from pipeline.notify.smtp import envelope
from pipeline.redaction import configured_secrets, redact
from pipeline.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resent:
    delivered: list[str]  # names of the alerts delivered and no longer pending
    failed: list[str]  # "<name>: <one-line error>", still pending
    busy: list[str]  # names another sender held (sending them right now)


def pending_alerts_dir(settings: Settings) -> Path:
    return settings.state_dir / "pending_alerts"


def deliver_or_keep(message: EmailMessage, settings: Settings, *, name: str) -> Sent | None:
    """Keep ``message`` as pending, deliver it, then forget it; a failed delivery raises and
    leaves it pending. An earlier attempt's file of the same name is sent instead (its bytes).
    None when another sender holds this alert: it is delivering it, or just did."""
    raw = message.as_bytes()
    path = pending_alerts_dir(settings) / f"{name}.eml"
    try:
        held = _keep(raw, path)
    except OSError as exc:
        # a full or read-only disk may be what failed the run: tell someone all the same
        reason = os_error_reason(exc)
        log.warning("%s: cannot keep the alert (%s); sending it without a copy", path, reason)
        mail_from, rcpt_to = envelope(message)
        return deliver_raw(raw, mail_from, rcpt_to, settings, name=name)
    if held is None:
        return None
    with held:
        return _deliver_held(held, path, settings)


def resend_pending(settings: Settings) -> Resent:
    """Resend every pending alert no other sender holds, oldest name first; a delivered one
    stops being pending."""
    delivered, failed, busy = [], [], []
    secrets = configured_secrets(settings)
    for path in sorted(pending_alerts_dir(settings).glob("*.eml")):
        try:
            held = _hold(path)
            if held is None:
                busy.append(path.stem)
                continue
            with held:
                _deliver_held(held, path, settings)
        except (NotifyError, OSError, ValueError) as exc:  # unreadable, unparsable, refused
            # delivery errors are scrubbed already; any other text is scrubbed here
            failed.append(f"{path.stem}: {one_line(exc, redact(str(exc), secrets))}")
            continue
        delivered.append(path.stem)
    return Resent(delivered, failed, busy)


def _keep(raw: bytes, path: Path) -> BinaryIO | None:
    """``path`` written durably with ``raw`` and locked by us; or, if an earlier attempt left
    it, that file locked by us (None: another sender holds it, or it just went)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return _hold(path)
    remove_stale_temp_files(path.parent)  # an older ratedeck's, unlocked: by their age
    remove_stale_temporaries(path)  # those of senders killed mid-write
    temporary = OwnedTemporary(path)  # locked before anyone can see the name
    tmp = temporary.path
    handle = temporary.detach()  # returned open: the lock lives as long as it
    try:
        handle.write(raw)
        handle.flush()
        os.fsync(handle.fileno())
        os.link(tmp, path)  # never replaces: an existing file is another sender's
    except FileExistsError:
        handle.close()
        return _hold(path)
    except BaseException:
        handle.close()
        raise
    finally:
        remove_quietly(tmp)
    fsync_dir(path.parent)
    handle.seek(0)
    return handle


def _hold(path: Path) -> BinaryIO | None:
    """``path`` open and exclusively locked by us; None when another sender holds it, or when
    it was delivered and removed (perhaps kept anew) since we looked."""
    try:
        handle = open(path, "rb")  # returned open: the lock lives as long as it
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        mine, there = os.fstat(handle.fileno()), os.stat(path)
    except (BlockingIOError, FileNotFoundError):
        handle.close()
        return None
    except BaseException:
        handle.close()
        raise
    if (mine.st_dev, mine.st_ino) != (there.st_dev, there.st_ino):
        handle.close()
        return None
    return handle


def _deliver_held(held: BinaryIO, path: Path, settings: Settings) -> Sent:
    """Deliver the held file's bytes unchanged, then remove it (we hold its lock: nobody else
    removes or replaces it meanwhile)."""
    raw = held.read()
    mail_from, rcpt_to = envelope(message_from_bytes(raw, policy=policy.default))
    sent = deliver_raw(raw, mail_from, rcpt_to, settings, name=path.stem)
    try:
        path.unlink(missing_ok=True)  # missing: deleted by hand meanwhile
    except OSError as exc:  # delivered all the same: not an error of the delivery
        reason = os_error_reason(exc)
        log.warning("%s: delivered but not removed (%s): it will be sent again", path, reason)
        return sent
    fsync_dir(path.parent)
    return sent


__all__ = ["Resent", "deliver_or_keep", "pending_alerts_dir", "resend_pending"]
