"""Ingest failures: a deck that cannot be read, or read but not trusted.

All are ``InputError`` (exit code 2: bad input), so the CLI prints one line naming the
source. None of them carries a secret: messages hold the source name, counts and reasons.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.errors import InputError

if TYPE_CHECKING:
    from pipeline.ingest.frames import IngestResult


class IngestError(InputError):
    """Base class for a deck that cannot be turned into canonical rows."""


class UnrecognisedFormatError(IngestError):
    """The bytes are not a CSV, XLS or XLSX rate deck (an HTML page, a PDF, empty...)."""

    @classmethod
    def unreadable(cls, source: str, what: str, exc: Exception) -> UnrecognisedFormatError:
        """ "<source>: not a readable <what> file: <the reader's first line>"."""
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return cls(f"{source}: not a readable {what} file: {first}")


class MalformedCsvError(IngestError):
    """The CSV's structure cannot be trusted: a quote that swallows lines, or every row wider
    than the header. Refused whole: reading on would load misaligned or merged rows."""


class NoHeaderError(IngestError):
    """No row maps to the required columns (destination, prefix, price)."""


class NoValidRowsError(IngestError):
    """The deck has a header but not one usable rate row.

    ``result`` holds what was read (every row a reject) so the caller can still record why.
    """

    def __init__(self, message: str, result: IngestResult | None = None) -> None:
        super().__init__(message)
        self.result = result

    @classmethod
    def none_usable(
        cls, source: str, what: str, total: int, result: IngestResult, hint: str = ""
    ) -> NoValidRowsError:
        """ "<source>: not one usable <what> in <total> row(s) (row N: <first reason>)<hint>",
        the first reject of ``result`` (every row a reject) saying why."""
        first = result.rejects.row(0, named=True)
        return cls(
            f"{source}: not one usable {what} in {total} row(s) "
            f"(row {first['row_number']}: {first['reason']}){hint}",
            result,
        )


class TooManyRejectsError(IngestError):
    """More rows were refused than the configured fraction allows."""


class SpreadsheetTooLargeError(IngestError):
    """An XLSX would inflate past ``[voice] max_inflated_bytes`` (or like a zip bomb)."""


class IngestTimeoutError(IngestError):
    """Reading the deck took longer than ``[voice] ingest_timeout_s``."""
