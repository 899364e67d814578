"""Writing an email as an ``.eml`` file, atomically (temp file, fsync, rename)."""

from __future__ import annotations

import contextlib
import os
import re
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

from pipeline.durable import fsync_dir
from pipeline.notify.errors import OutboxError

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,150}")
# our temp files only: ".<safe name>.eml.<32 hex>.tmp" (see write_raw)
_TEMP_NAME = re.compile(r"\.[A-Za-z0-9][A-Za-z0-9._-]{0,150}\.eml\.[0-9a-f]{32}\.tmp")
# a write takes milliseconds; a temp file this old belongs to a process that died mid-write
STALE_TEMP_AGE_S = 15 * 60


def write_eml(message: EmailMessage, outbox_dir: Path, name: str) -> Path:
    """Write ``message`` to ``outbox_dir/<name>.eml``; a reader never sees half a file."""
    return write_raw(message.as_bytes(), outbox_dir, name)


def write_raw(raw: bytes, outbox_dir: Path, name: str) -> Path:
    """Write the message bytes ``raw`` to ``outbox_dir/<name>.eml`` atomically.

    The same ``name`` overwrites: a resent message (same bytes) leaves one file.
    """
    if not _SAFE_NAME.fullmatch(name):
        raise OutboxError(f"bad outbox file name {name!r}", target=str(outbox_dir))
    path = Path(outbox_dir) / f"{name}.eml"
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temp_files(path.parent)
        with open(tmp, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise OutboxError(
            f"{path}: cannot write: {exc.strerror or exc}", target=str(path)
        ) from None
    finally:
        with contextlib.suppress(OSError):  # nothing to clean up if the folder is unusable
            tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)
    return path


def remove_stale_temp_files(
    outbox_dir: Path, *, older_than_s: float = STALE_TEMP_AGE_S, now: float | None = None
) -> list[Path]:
    """Remove temp files a process killed mid-write left behind; returns what was removed.

    Only ratedeck's own temp-name pattern, and only files older than ``older_than_s``: a
    younger one may be another process's write in progress (the outbox has no lock). Every
    other file in the folder is the user's and stays.
    """
    # the wall clock, not pipeline.clock: it is compared with the files' real mtimes
    moment = time.time() if now is None else now
    removed = []
    for candidate in Path(outbox_dir).glob(".*.eml.*.tmp"):
        if not _TEMP_NAME.fullmatch(candidate.name):
            continue
        with contextlib.suppress(FileNotFoundError):  # another process removed it first
            if moment - candidate.lstat().st_mtime > older_than_s and candidate.is_file():
                candidate.unlink()
                removed.append(candidate)
    return removed
