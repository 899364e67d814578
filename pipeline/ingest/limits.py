"""Bounds on what one deck may cost to read: how far a spreadsheet may inflate, how long
ingest may take. A deck beyond them is refused with one line naming the file, instead of
keeping a run busy (a 1.5 MB XLSX whose sheet XML inflates to 1.5 GB took minutes).
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.ingest.errors import IngestTimeoutError, SpreadsheetTooLargeError

DEFAULT_MAX_INFLATED_BYTES = 512 * 1024 * 1024  # a 100,000-row XLSX inflates to ~25 MB
DEFAULT_TIMEOUT_S = 300.0
# A real sheet compresses about 10x; a zip bomb 1000x. Members this small are never checked.
MAX_COMPRESSION_RATIO = 100
_RATIO_FLOOR_BYTES = 1024 * 1024


@dataclass(frozen=True)
class IngestLimits:
    max_inflated_bytes: int = DEFAULT_MAX_INFLATED_BYTES  # [voice] max_inflated_bytes
    timeout_s: float = DEFAULT_TIMEOUT_S  # [voice] ingest_timeout_s
    clock: Callable[[], float] = time.monotonic  # tests pass a fake clock

    def deadline(self, source: str) -> Deadline:
        return Deadline(source, self.timeout_s, self.clock)


class Deadline:
    """Checked between steps and every few thousand spreadsheet rows (the slow loops)."""

    def __init__(self, source: str, timeout_s: float, clock: Callable[[], float]) -> None:
        self._source, self._timeout_s, self._clock = source, timeout_s, clock
        self._end = clock() + timeout_s

    def check(self, where: str = "") -> None:
        if self._clock() > self._end:
            at = f" (at {where})" if where else ""
            raise IngestTimeoutError(
                f"{self._source}: ingest took longer than {self._timeout_s:g} s{at}; "
                "refused (the limit is [voice] ingest_timeout_s)"
            )


def check_inflation(data: bytes, source: str, max_inflated_bytes: int) -> None:
    """Refuses an XLSX whose members would inflate past the limit, before any is read.

    The sizes come from the zip's central directory; a member that lies about its size
    cannot inflate further, since zipfile stops at the declared size (and the CRC fails).
    """
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except zipfile.BadZipFile:
        return  # openpyxl words the damaged-file error
    total = sum(member.file_size for member in members)
    if total > max_inflated_bytes:
        raise SpreadsheetTooLargeError(
            f"{source}: the workbook would inflate to {total:,} bytes, over the limit of "
            f"{max_inflated_bytes:,} ([voice] max_inflated_bytes); refused"
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _RATIO_FLOOR_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise SpreadsheetTooLargeError(
                f"{source}: {member.filename} inflates {ratio:,.0f}x ({member.compress_size:,}"
                f" -> {member.file_size:,} bytes), over {MAX_COMPRESSION_RATIO}x: "
                "a zip bomb? refused"
            )
