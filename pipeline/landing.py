"""The raw landing zone: every download kept byte for byte, immutable, under ``data/raw/``.

Layout: ``raw/<kind>/<source>/<UTC time>-<sha256[:16]>.<ext>``, e.g.
``raw/voice/021001/20261126T060000.123456Z-3fa1c0de9b1e2f47.csv``. The name carries the fetch
time and the content hash, so replaying a file is recognisable and nothing is overwritten.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.demo_data import retire_unless_demo
from pipeline.durable import remove_quietly
from pipeline.errors import RatedeckError, os_error_reason

_NAME_RE = re.compile(
    r"^(?P<ts>\d{8}T\d{6}\.\d{6}Z)-(?P<sha>[0-9a-f]{16})\.(?P<ext>csv|xls|xlsx|json|parquet)$"
)
STALE_PARTIAL_S = 3600.0  # a partial download untouched this long belongs to a dead process
_SOURCE_RE = re.compile(r"^[A-Za-z0-9@_-][A-Za-z0-9@._-]{0,127}$")


class LandingError(RatedeckError):
    """A raw file could not be stored or found inside the landing zone."""


@dataclass(frozen=True)
class LandedFile:
    kind: str  # voice | sms | cdr | customer
    source: str  # tech prefix, SMS channel "username:id", or "customer"
    path: Path  # absolute path of the stored bytes
    relative_path: str  # relative to the data dir (what the warehouse records)
    sha256: str
    size_bytes: int
    fetched_at: datetime  # UTC

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()


def source_dir_name(source: str) -> str:
    """A file-system-safe folder name for a source; refuses anything that could escape."""
    name = source.replace(":", "_")
    # fullmatch: with match, "$" would also accept a trailing newline
    if not _SOURCE_RE.fullmatch(name) or ".." in name:
        raise LandingError(f"refusing unsafe landing-zone name {source!r}")
    return name


def inside(root: Path, candidate: Path) -> Path:
    """``candidate`` resolved, provided it stays under ``root`` (no ``..``, no symlink escape)."""
    root_resolved = root.resolve()
    resolved = candidate.resolve()
    if resolved != root_resolved and root_resolved not in resolved.parents:
        raise LandingError(f"refusing path outside the landing zone: {candidate}")
    return resolved


def timestamp_name(fetched_at: datetime) -> str:
    return fetched_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


class LandingZone:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / "raw"

    def folder(self, kind: str, source: str) -> Path:
        """The folder new files of ``source`` land in (every landing-zone write starts here)."""
        retire_unless_demo(self.data_dir)  # real data now: no demo may wipe this dir
        folder = inside(self.root, self.root / source_dir_name(kind) / source_dir_name(source))
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def staging_file(self, kind: str, source: str) -> Path:
        """A fresh temporary path in the destination folder (same file system: atomic rename)."""
        folder = self.folder(kind, source)
        remove_stale_partials(folder)
        fd, name = tempfile.mkstemp(prefix=".incoming-", dir=folder)
        os.close(fd)
        return Path(name)

    def store_file(
        self,
        kind: str,
        source: str,
        staged: Path,
        *,
        ext: str,
        fetched_at: datetime,
        sha256: str | None = None,
    ) -> LandedFile:
        """Move a fully written staging file to its final immutable name."""
        staged = inside(self.root, staged)
        if sha256 is None:
            sha256 = _sha256_file(staged)
        final = self.folder(kind, source) / f"{timestamp_name(fetched_at)}-{sha256[:16]}.{ext}"
        if final.exists():  # same time and content: already landed
            staged.unlink(missing_ok=True)
        else:
            os.chmod(staged, 0o444)
            os.replace(staged, final)
        return self._landed(kind, source, final, sha256, fetched_at)

    def store_bytes(
        self, kind: str, source: str, data: bytes, *, ext: str, fetched_at: datetime
    ) -> LandedFile:
        """Store ``data`` as a landed file; a full disk or a read-only folder is a
        ``LandingError`` naming the folder, and leaves no partial file."""
        try:
            staged = self.staging_file(kind, source)
        except OSError as exc:
            raise _cannot_store(self.root, exc) from None
        try:
            with open(staged, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            return self.store_file(
                kind,
                source,
                staged,
                ext=ext,
                fetched_at=fetched_at,
                sha256=hashlib.sha256(data).hexdigest(),
            )
        except OSError as exc:
            remove_quietly(staged)
            raise _cannot_store(staged.parent, exc) from None

    def open_landed(self, kind: str, source: str, relative_path: str) -> LandedFile:
        """Re-open a landed file by its recorded relative path (replays, re-runs)."""
        path = inside(self.root, self.data_dir / relative_path)
        match = _NAME_RE.fullmatch(path.name)
        if not match or not path.is_file():
            raise LandingError(f"{relative_path}: not a landed raw file")
        fetched_at = datetime.strptime(match["ts"], "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)
        return self._landed(kind, source, path, _sha256_file(path), fetched_at)

    def _landed(
        self, kind: str, source: str, path: Path, sha256: str, fetched_at: datetime
    ) -> LandedFile:
        return LandedFile(
            kind=kind,
            source=source,
            path=path,
            relative_path=str(path.relative_to(self.data_dir.resolve())),
            sha256=sha256,
            size_bytes=path.stat().st_size,
            fetched_at=fetched_at,
        )


def _cannot_store(folder: Path, exc: OSError) -> LandingError:
    return LandingError(f"{folder}: cannot write there: {os_error_reason(exc)}")


def remove_stale_partials(folder: Path, *, older_than_s: float = STALE_PARTIAL_S) -> list[Path]:
    """Delete downloads a killed process left half-written (``.incoming-*``, ``*.part``).

    Only files untouched for ``older_than_s``: a download in flight writes continuously, and
    runs of one partition are serialised, so nothing live is that old.
    """
    cutoff = time.time() - older_than_s
    removed = []
    for pattern in (".incoming-*", ".*.part"):
        for path in folder.glob(pattern):
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed.append(path)
            except FileNotFoundError:
                continue  # another process cleaned it first
    return removed


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
