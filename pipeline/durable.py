"""Durability helpers shared by the layers that write files atomically (temp file, fsync,
rename): the rename itself only survives a power loss once the directory entry is synced."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path


def fsync_dir(directory: Path) -> None:
    """Flush ``directory``'s entries to disk; best effort (some filesystems refuse it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync a directory; the rename is still atomic
    finally:
        os.close(fd)


def temporary_beside(path: Path) -> Path:
    """A temporary name in ``path``'s folder (same file system: the rename is atomic), unique
    to this writer: two runs writing the same file never share one, and a stale or foreign
    ``.<name>.tmp`` is neither used nor removed."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")


def remove_quietly(path: Path) -> None:
    """Remove a temporary file, if any, and say nothing if that fails: where a write failed
    (a read-only file system refuses even to unlink a missing file) the write's own error is
    the one to report."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)
