"""CSV rows as polars reads them, and how many fields each line holds.

``read_header_csv`` reads a CSV whose first line is its header (a generic CDR file, the
carrier's export) as text columns. polars reads it strictly, in one pass: the common case. A
row wider than the header makes polars refuse the whole file, so only then is it read again
with such rows cut to the header's width, each given the reason it is refused with (its
fields counted by ``field_counts``, where polars sees them), so that one bad row is a reject of
its own and the other rows import (docs/cdr.md#bad-rows). A file of nothing but blank lines
(or only a byte-order mark) has no header and no row: an empty export, not an unreadable one.
A blank row under the header (a blank line, a spreadsheet's empty row ``,,,``) is no row
either (``HeaderCsv.blank``): polars reads it as a row of nulls, which would be a reject.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from pipeline.ingest.errors import UnrecognisedFormatError
from pipeline.ingest.phone import WHITESPACE_CLASS
from pipeline.ingest.sniff import UTF8_BOM

# nothing but a byte-order mark and blank lines (a match stops at the first other byte: cheap)
_NO_TEXT = re.compile(rb"(?:\xef\xbb\xbf)?\s*\Z")
# empty or whitespace only, as Python's str.strip sees it (a match, not a strip: no copy)
_ONLY_WHITESPACE = f"^{WHITESPACE_CLASS}*$"


@dataclass(frozen=True)
class HeaderCsv:
    """The rows under a CSV header, as text; ``shape``: per row, why it is refused (more
    fields than the header), null where it is not; None when no row is. ``blank``: per row,
    whether it is blank (``blank_rows``): no call and no reject; None when no row is."""

    frame: pl.DataFrame
    shape: pl.Series | None = None
    blank: pl.Series | None = None

    @property
    def empty(self) -> bool:
        """No header at all (nothing but blank lines): no column can be missing from it."""
        return not self.frame.columns

    @property
    def trusted(self) -> pl.Series:
        """Per row, whether its fields can be read (it is not refused for its shape)."""
        if self.shape is None:
            return pl.repeat(True, self.frame.height, dtype=pl.Boolean, eager=True)
        return self.shape.is_null()

    def without_blank(self, numbered: pl.DataFrame) -> pl.DataFrame:
        """``numbered``, one row per row of ``frame`` and numbered already (so that the other
        rows keep their line numbers), without the blank rows."""
        return numbered if self.blank is None else numbered.filter(~self.blank)

    def reasons(self, rows: list[int]) -> list[str | None]:
        """The shape reasons of the rows at ``rows`` (0-based): null for a row not refused."""
        return [None] * len(rows) if self.shape is None else self.shape.gather(rows).to_list()


def read_header_csv(data: bytes, source: str) -> HeaderCsv:
    """The file's rows, or UnrecognisedFormatError naming ``source`` when polars cannot read
    it even with too-wide rows cut (binary data, a quote never closed...)."""
    if _NO_TEXT.match(data):
        return HeaderCsv(pl.DataFrame())
    strict = _read(data, source, ragged=False)
    if strict is not None:
        return _with_blank(HeaderCsv(strict))
    frame = _read(data, source, ragged=True)
    assert frame is not None  # a ragged read never reports a ragged row
    return _with_blank(HeaderCsv(frame, _too_wide(_after_header(data), frame, source)))


def _with_blank(table: HeaderCsv) -> HeaderCsv:
    """``table`` with its blank rows marked; a row cut to the header's width is not blank
    (its text is past the cut)."""
    frame = table.frame
    blank = blank_rows(frame, frame.columns[0])
    if not blank.any():
        return table
    return HeaderCsv(frame, table.shape, blank & table.trusted)


def blank_rows(frame: pl.DataFrame, likely: str) -> pl.Series:
    """Per row, whether its every field is null or whitespace (Python's ``str.strip``): a
    blank line, or an empty row (``,,,``). ``likely``: a column most rows fill; only the rows
    blank there are looked at whole (cheap on a file with few or no blank rows)."""

    def blank(name: str) -> pl.Expr:
        return pl.col(name).is_null() | pl.col(name).str.contains(_ONLY_WHITESPACE)

    maybe = frame.select(blank(likely)).to_series()
    if not maybe.any():
        return maybe
    candidates = frame.filter(maybe).select(pl.all_horizontal(map(blank, frame.columns)))
    return maybe.scatter(maybe.arg_true(), candidates.to_series())


def require_columns(table: HeaderCsv, names: Iterable[str], source: str, setting: str) -> HeaderCsv:
    """``table`` when it has every column of ``names`` (the columns ``setting`` maps), else
    UnrecognisedFormatError naming the first missing. An empty file is no rows of them."""
    wanted = list(names)
    if table.empty:
        return HeaderCsv(pl.DataFrame(schema=dict.fromkeys(wanted, pl.String)))
    missing = [name for name in wanted if name not in table.frame.columns]
    if missing:
        have = ", ".join(table.frame.columns) or "none"
        raise UnrecognisedFormatError(
            f"{source}: no column {missing[0]!r} ({setting}); the file has: {have}"
        )
    return table


def _read(data: bytes, source: str, *, ragged: bool) -> pl.DataFrame | None:
    """The rows as text; None when a strict read found a row wider than the header."""
    try:
        return pl.read_csv(io.BytesIO(data), infer_schema=False, truncate_ragged_lines=ragged)
    except (pl.exceptions.PolarsError, OSError) as exc:
        if not ragged and "more fields" in str(exc):
            return None
        raise UnrecognisedFormatError.unreadable(source, "CSV", exc) from None


def _after_header(data: bytes) -> bytes:
    """The bytes after the header line (polars skips empty lines before the header)."""
    payload = data.removeprefix(UTF8_BOM)
    start = 0
    while True:
        end = payload.find(b"\n", start)
        if end < 0:
            return b""
        if payload[start:end].rstrip(b"\r"):
            return payload[end + 1 :]
        start = end + 1


def _too_wide(body: bytes, frame: pl.DataFrame, source: str) -> pl.Series:
    """Per row of ``frame``, the reason it is refused when it has more fields than the header
    (empty trailing fields aside: nothing is lost by cutting them), else null."""
    if line_count(body) != frame.height:  # a quoted field over several lines
        raise UnrecognisedFormatError(
            f"{source}: a row has more fields than the header, and a quoted field runs over "
            "several lines: cannot tell which row; quote the field with the comma"
        )
    width = frame.width
    counts = field_counts(body, ",", width, None)
    return counts.select(
        pl.when(~pl.col("blank") & (pl.col("content") > width))
        .then(
            pl.format(
                "{} fields, the header has {}: a comma in an unquoted field?",
                pl.col("content"),
                pl.lit(width),
            )
        )
        .alias("shape")
    ).to_series()


def field_counts(data: bytes, delimiter: str, width: int, only: pl.Series | None) -> pl.DataFrame:
    """Per line (or only the lines at ``only``, 0-based): fields, fields up to the last
    non-empty one (``content``), blank or not, and the text past the header's ``width``
    (``extra``). Quotes count where polars sees them: at the start of a field."""
    d = re.escape(delimiter)
    lines = pl.Series("line", data.decode("utf-8").split("\n")[: line_count(data)])
    if only is not None:
        lines = lines.gather(only)
    lines = lines.str.strip_suffix("\r")
    masked = lines.str.replace_all(rf'(^|{d})"(?:[^"]|"")+"', "${1}x").str.replace_all(
        rf'(^|{d})""', "${1}"
    )
    return pl.DataFrame(
        {
            "fields": masked.str.count_matches(delimiter, literal=True) + 1,
            "content": masked.str.replace(rf"[{d}\s]+$", "").str.count_matches(
                delimiter, literal=True
            )
            + 1,
            "blank": masked.str.contains(rf"^[{d}\s]*$"),
            "extra": lines.str.extract(
                rf'^(?:(?:"(?:[^"]|"")*"|[^{d}]*){d}){{{width}}}(.*?)[{d}\s]*$', 1
            ),
        }
    )


def line_count(payload: bytes) -> int:
    """Lines in the file (a final newline ends the last line, it does not start one)."""
    return payload.count(b"\n") + (0 if payload.endswith(b"\n") or not payload else 1)
