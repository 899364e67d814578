"""File mechanics of publishing: copy only the blocks that changed, know whether a reader holds
a file, and swap the published file atomically with a hard link.

A DuckDB file (storage format of DuckDB 1.x and 2.x) is three 4 KiB headers followed by blocks
of 256 KiB, and every block starts with an 8-byte checksum of its contents. Two files of the same
history therefore differ exactly in the blocks whose first 8 bytes differ (up to a 64-bit
checksum collision), and bringing one up to date with the other costs what changed, not what is
stored. A file that does not have that layout is copied whole (``sync_blocks`` compares nothing).
``tests/integration/warehouse/test_warehouse_publish_blocks.py`` checks the layout against the
installed DuckDB, so an upgrade that changes it fails a test rather than a publish.
"""

from __future__ import annotations

import fcntl
import os
import struct
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HEADERS_BYTES = 3 * 4096
BLOCK_BYTES = 256 * 1024
CHECKSUM_BYTES = 8
_MAGIC_OFFSET, _MAGIC = 8, b"DUCK"
_COPY_CHUNK = 8 * 1024 * 1024


def has_block_layout(fd: int) -> bool:
    """The file open at ``fd`` is a DuckDB database made of whole checksummed blocks."""
    size = os.fstat(fd).st_size
    return (
        size >= HEADERS_BYTES
        and (size - HEADERS_BYTES) % BLOCK_BYTES == 0
        and os.pread(fd, len(_MAGIC), _MAGIC_OFFSET) == _MAGIC
    )


def sync_blocks(source: Path, target_fd: int) -> int:
    """Make the file open at ``target_fd`` a byte copy of ``source``, writing only the headers
    and the blocks whose checksum differs. Returns the bytes written."""
    with open(source, "rb") as handle:
        source_fd = handle.fileno()
        size = os.fstat(source_fd).st_size
        comparable = has_block_layout(source_fd) and has_block_layout(target_fd)
        if not comparable:
            os.ftruncate(target_fd, 0)  # nothing to compare: a plain copy
        written = copy_range(source_fd, target_fd, 0, min(HEADERS_BYTES, size))
        for offset in range(HEADERS_BYTES, size, BLOCK_BYTES):
            if comparable and _same_checksum(source_fd, target_fd, offset):
                continue
            written += copy_range(source_fd, target_fd, offset, min(BLOCK_BYTES, size - offset))
        os.ftruncate(target_fd, size)
    return written


def _same_checksum(source_fd: int, target_fd: int, offset: int) -> bool:
    return os.pread(source_fd, CHECKSUM_BYTES, offset) == os.pread(
        target_fd, CHECKSUM_BYTES, offset
    )


def copy_range(source_fd: int, target_fd: int, offset: int, count: int) -> int:
    """Copy ``count`` bytes at ``offset`` (same offset in both files), in the kernel when it
    can (``copy_file_range``), else through a buffer."""
    done = 0
    while done < count:
        step = min(_COPY_CHUNK, count - done)
        try:
            moved = os.copy_file_range(source_fd, target_fd, step, offset + done, offset + done)
        except OSError:  # not on this kernel or filesystem pair
            moved = os.pwrite(target_fd, os.pread(source_fd, step, offset + done), offset + done)
        if moved == 0:
            raise OSError(f"source shorter than expected at byte {offset + done}")
        done += moved
    return done


@contextmanager
def unless_read(path: Path) -> Iterator[int | None]:
    """``path`` opened for writing, with an open-file-description write lock that conflicts
    with the read lock every DuckDB connection in another process holds on its file; None when
    a reader holds it, in another process or in this one (or the platform cannot tell: assume a
    reader). While the lock is held, a DuckDB reader that tries to open the file is refused,
    never shown a mix."""
    if open_in_this_process(path):
        yield None
        return
    fd = os.open(path, os.O_RDWR)
    try:
        yield fd if _ofd_write_lock(fd) else None
    finally:
        os.close(fd)  # releases the lock


def open_in_this_process(path: Path) -> bool:
    """Some file descriptor of this process has ``path``'s file open (a DuckDB reader here).

    Locks cannot tell: POSIX record locks belong to the process, and closing any descriptor of
    a file drops them all, so a reader in this process loses its lock as soon as this process
    opens and closes the file for anything else. Linux lists a process's descriptors in
    /proc/self/fd; elsewhere assume the file is open."""
    descriptors = Path("/proc/self/fd")
    if not descriptors.is_dir():
        return True
    wanted = os.stat(path)
    for name in os.listdir(descriptors):
        try:
            found = os.stat(descriptors / name)
        except OSError:  # closed meanwhile
            continue
        if (found.st_dev, found.st_ino) == (wanted.st_dev, wanted.st_ino):
            return True
    return False


def _ofd_write_lock(fd: int) -> bool:
    command = getattr(fcntl, "F_OFD_SETLK", None)
    if command is None:
        return False
    # struct flock: l_type, l_whence, l_start, l_len (0 = the whole file), l_pid (0 for OFD)
    request = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
    try:
        fcntl.fcntl(fd, command, request)
    except OSError:
        return False
    return True


def same_file(first: Path, second: Path) -> bool:
    """Both names lead to one file (False when either does not exist)."""
    try:
        return os.path.samefile(first, second)
    except (FileNotFoundError, NotADirectoryError):
        return False


def link_over(source: Path, target: Path) -> None:
    """Make ``target`` another name of ``source``'s file, atomically: a reader opening
    ``target`` gets the old file or the new one. Raises OSError where hard links cannot be
    made (another filesystem: EXDEV)."""
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    os.link(source, temporary)
    try:
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())
