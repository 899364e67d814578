"""Writing an email as an ``.eml`` file, atomically (temp file, fsync, rename)."""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from email.message import EmailMessage
from pathlib import Path

from pipeline.durable import fsync_dir
from pipeline.notify.errors import OutboxError

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,150}")


def write_eml(message: EmailMessage, outbox_dir: Path, name: str) -> Path:
    """Write ``message`` to ``outbox_dir/<name>.eml``; a reader never sees half a file.

    The same ``name`` overwrites: a retried report (same change set) leaves one file.
    """
    if not _SAFE_NAME.fullmatch(name):
        raise OutboxError(f"bad outbox file name {name!r}", target=str(outbox_dir))
    path = Path(outbox_dir) / f"{name}.eml"
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as handle:
            handle.write(message.as_bytes())
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
