"""Durability helpers shared by the layers that write files atomically (temp file, fsync,
rename): the rename itself only survives a power loss once the directory entry is synced; a
temporary file left by a writer that died (SIGKILL, power loss) is recognised as such and
removed by the next writer of the same file. A lock file's ``flock`` tells whether its
process still lives (``lock_free``)."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)


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


class OwnedTemporary:
    """A temporary file in ``target``'s folder (same file system: the rename is atomic), created
    at once and held under an exclusive ``flock`` until ``close()``: the lock is what proves
    its writer alive. Named ``.<target name>.<pid>-<random>.tmp``, unique to this writer (two
    runs writing the same file never share one); the pid only tells a reader whose it is.

    The kernel drops the lock when its process ends, however it ends (SIGKILL included), and
    a power loss takes every lock with it: a temporary nobody holds is a dead writer's, which
    ``remove_stale_temporaries`` may remove. Write it by its ``path`` (the lock is on the
    file, not on a name or a descriptor) and close it after the rename."""

    def __init__(self, target: Path):
        for _attempt in range(_CREATE_ATTEMPTS):
            path = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(8)}.tmp")
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
            if _lock_new_file(fd):
                self.path: Path = path
                self._fd: int | None = fd
                return
        raise OSError(errno.EAGAIN, f"no temporary file beside {target} stayed ours")

    def detach(self) -> BinaryIO:
        """The file, open for reading and writing, which now holds the lock: for a writer that
        keeps the file locked under its final name (a hard link to it), until it closes it."""
        fd, self._fd = self._fd, None
        if fd is None:
            raise ValueError("the temporary is closed")
        return os.fdopen(fd, "r+b")

    def close(self) -> None:
        """Release the lock (after the rename, or after removing the file)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> OwnedTemporary:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


@contextlib.contextmanager
def owned_temporary(target: Path) -> Iterator[Path]:
    """The ``OwnedTemporary`` of one write of ``target``, the stale temporaries of ``target``
    removed first (``remove_stale_temporaries``); on leaving, the temporary is removed (if the
    write did not rename it into place) and its lock released."""
    remove_stale_temporaries(target)
    with OwnedTemporary(target) as temporary:
        try:
            yield temporary.path
        finally:
            remove_quietly(temporary.path)


_CREATE_ATTEMPTS = 10
# a file system without locks (some FUSE and network mounts): nobody can prove the writer
# dead there, so the file is written unlocked and never swept
_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL}


def _lock_new_file(fd: int) -> bool:
    """Lock a file this process just created; False (``fd`` closed) if a sweeper removed it
    between its creation and the lock, when it was not locked yet: then take another name."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # waits out a sweeper's brief look at it
    except OSError as exc:
        if exc.errno in _NO_LOCKS:
            return True
        os.close(fd)
        raise
    if os.fstat(fd).st_nlink:
        return True
    os.close(fd)
    return False


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Remove the ``OwnedTemporary`` files of ``target`` whose writer is provably dead: no
    process holds their lock (a process killed with SIGKILL, or a power loss). A live
    writer's, one of an older ratedeck (no lock: cannot tell) and any other file are left
    alone. Best effort: a folder that cannot be listed, or a file that cannot be removed, is
    left as it is. Logs one line per file removed."""
    prefix = f".{target.name}."
    try:
        names = [name for name in os.listdir(target.parent) if name.startswith(prefix)]
    except OSError:
        return []
    removed = []
    for name in names:
        match = _OWNED_NAME.fullmatch(name[len(prefix) :])
        path = target.with_name(name)
        if match is not None and _remove_if_abandoned(path):
            log.warning(
                "removed %s: a stale temporary file of process %s, which is gone",
                path,
                match["pid"],
            )
            removed.append(path)
    return removed


_OWNED_NAME = re.compile(r"(?P<pid>[0-9]+)-[0-9a-f]{16}\.tmp")


def _remove_if_abandoned(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:  # renamed into place (or removed) by its writer meanwhile
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # nobody holds it: its writer is dead, or done and the name no longer leads to it
        if not _still_named(path, fd):
            return False
        path.unlink()
        return True
    except OSError:  # held by a live writer (or no locks here: cannot tell), or not removable
        return False
    finally:
        os.close(fd)  # releases the lock


def _still_named(path: Path, fd: int) -> bool:
    opened, named = os.fstat(fd), os.stat(path, follow_symlinks=False)
    return (opened.st_dev, opened.st_ino) == (named.st_dev, named.st_ino)


def lock_free(path: Path) -> bool:
    """The lock file exists and no process holds its ``flock``: whoever held it is gone (the
    kernel drops the lock when its process dies, and nothing else does)."""
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return False  # finished and removed, or not on this machine: nothing can be told
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return True


def remove_quietly(path: Path) -> None:
    """Remove a temporary file, if any, and say nothing if that fails: where a write failed
    (a read-only file system refuses even to unlink a missing file) the write's own error is
    the one to report."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)
