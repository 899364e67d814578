"""The stale feeds already emailed to the data engineers, and when: a small JSON file under the
state dir (``alerts/stale_announced.json``), so that an hourly freshness check emails a feed
when it becomes stale and then every ``[alerts] stale_repeat_hours``, not every hour."""

from __future__ import annotations

import json
import logging
import os
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from pipeline import clock
from pipeline.analytics.freshness import FeedAge, due_announcements
from pipeline.durable import fsync_dir

log = logging.getLogger(__name__)


def announced_path(state_dir: Path) -> Path:
    return state_dir / "alerts" / "stale_announced.json"


def read_announced(path: Path) -> dict[str, datetime]:
    """Feed key -> when it was last emailed; a missing or unreadable file is an empty record
    (the worst case is one email too many, never one too few)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {str(key): datetime.fromisoformat(value) for key, value in raw.items()}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        log.warning("%s: unreadable, starting a new record of stale feeds (%s)", path, exc)
        return {}


def write_announced(path: Path, record: dict[str, datetime]) -> None:
    """Atomically: temp file, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump({key: when.isoformat() for key, when in sorted(record.items())}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def announce_stale(state_dir: Path, stale: list[FeedAge], repeat_hours: float) -> list[FeedAge]:
    """The stale feeds to email now (new ones, and those last emailed ``repeat_hours`` ago),
    recorded as emailed; the others stay failed checks without an email.

    Recorded before the email exists (the caller fails its run, and the run-failure sensor
    emails the failure): the email is safe once that sensor has kept it in its outbox
    (:mod:`pipeline.notify.pending_alerts`). Before that it is lost, and the feed waits
    ``repeat_hours``, only if the run's process dies before Dagster records the failure, the
    sensor was never started, or the sensor can neither keep nor send it (docs/dagster.md,
    Alerts): rare enough not to hold the record back until the sensor reports delivery."""
    path = announced_path(state_dir)
    repeat = timedelta(hours=repeat_hours)
    due, record = due_announcements(stale, read_announced(path), repeat, clock.utc_now())
    write_announced(path, record)
    return due
