"""Reading a deck's bytes into raw tables: every cell as text, header found, columns mapped.

CSV goes through polars (all columns as strings, so prefixes keep leading zeros). XLS goes
through xlrd and XLSX through openpyxl, every sheet; spreadsheet numbers are turned back into
decimal text by the double's shortest repr (0.1617 reads "0.1617", 353.0 reads "353"), so no
float travels downstream and nothing is rounded.

Row numbers are what a person sees: the line number in a CSV file (always exact: a quoted
field spanning lines refuses the file), the row number in a sheet. A CSV row's field count is
checked against the header (``RawTable.shape_reasons``). A sheet has no separators to misread:
its grid is as wide as its widest row, so a cell right of the header's columns is read into an
unnamed column (``column_N``), listed among the ignored columns.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Literal

import polars as pl

from pipeline.ingest.csv_rows import field_counts, line_count
from pipeline.ingest.errors import MalformedCsvError, NoHeaderError, UnrecognisedFormatError
from pipeline.ingest.headers import (
    HEADER_SCAN_ROWS,
    ColumnMapping,
    describe_expected,
    find_header,
    positional_mapping,
)
from pipeline.ingest.limits import Deadline, IngestLimits, check_inflation
from pipeline.ingest.sniff import DELIMITERS, UTF8_BOM, UTF16_BOMS, DeckFormat, decode_text

EXCEL_1900_EPOCH = datetime(1899, 12, 30)  # serial 1 = 1900-01-01 (Lotus leap-year bug kept)
EXCEL_1904_EPOCH = datetime(1904, 1, 1)
_HEADER_SCAN_LINES = HEADER_SCAN_ROWS * 2
_DEADLINE_ROWS = 2000  # spreadsheet rows read between two deadline checks


@dataclass(frozen=True)
class RawTable:
    """The data rows under one header: String columns named ``mapping.names``."""

    frame: pl.DataFrame
    first_row_number: int  # row/line number of frame row 0 (rows are consecutive)
    mapping: ColumnMapping
    sheet: str | None = None
    # per frame row, why its field count is wrong (null when fine); None when every row fits
    shape_reasons: pl.Series | None = None


@dataclass(frozen=True)
class RawDeck:
    tables: list[RawTable]
    source_format: DeckFormat
    excel_epoch: datetime | None = None  # set for spreadsheets: serial dates are allowed
    notes: list[str] = field(default_factory=list)


def read_deck(
    data: bytes,
    fmt: DeckFormat,
    *,
    source: str,
    limits: IngestLimits | None = None,
    deadline: Deadline | None = None,
) -> RawDeck:
    """The deck's tables. ``limits`` bound how far an XLSX may inflate and how long the
    spreadsheet rows may take to read (CSV is read by polars, in time bound by its size)."""
    limits = limits or IngestLimits()
    if fmt == "csv":
        return _read_csv(data, source)
    deadline = deadline or limits.deadline(source)
    if fmt == "xls":
        sheets, epoch = _xls_sheets(data, source, deadline)
    else:
        check_inflation(data, source, limits.max_inflated_bytes)
        sheets, epoch = _xlsx_sheets(data, source, deadline)
    return _deck_from_sheets(sheets, fmt, epoch, source)


def _no_header(source: str, where: str = "") -> NoHeaderError:
    return NoHeaderError(
        f"{source}: no header row found{where} in the first {HEADER_SCAN_ROWS} rows; "
        f"looked for {describe_expected()}"
    )


# --- CSV -------------------------------------------------------------------------------


def _read_csv(data: bytes, source: str) -> RawDeck:
    fast = _read_utf8_csv(data, source)
    if fast is not None:
        return fast
    text, encoding = decode_text(data)
    notes = [] if encoding == "utf-8" else [f"decoded as {encoding} (not valid UTF-8)"]
    as_is = encoding == "utf-8" and not data.startswith(UTF8_BOM)
    if "\n" not in text and "\r" in text:  # classic Mac line ends: CR only
        text, as_is = text.replace("\r", "\n"), False
    head_lines = text.split("\n", _HEADER_SCAN_LINES)[:_HEADER_SCAN_LINES]
    found = _find_csv_header([line.rstrip("\r") for line in head_lines])
    if found is None:
        raise _no_header(source)
    return _csv_deck(data if as_is else text.encode(), found, notes, source)


def _read_utf8_csv(data: bytes, source: str) -> RawDeck | None:
    """The common case without decoding the whole file: UTF-8 (BOM or not) with LF or CRLF
    line ends. Only the head is decoded (to find the header); polars reads the bytes and
    validates the UTF-8 itself. None when the file needs the general path (other encodings,
    CR-only line ends, UTF-16), which then decides everything from scratch.
    """
    if data.startswith(UTF16_BOMS):
        return None
    payload = data[len(UTF8_BOM) :] if data.startswith(UTF8_BOM) else data
    head_end = _end_of_line(payload, _HEADER_SCAN_LINES)
    if head_end < 0:  # the whole file is the head: the general path costs nothing more
        return None
    try:
        head = payload[:head_end].decode("utf-8")
    except UnicodeDecodeError:
        return None
    found = _find_csv_header([line.rstrip("\r") for line in head.split("\n")])
    if found is None:
        return None  # the general path decides (and words) the error
    try:
        return _csv_deck(payload, found, [], source)
    except pl.exceptions.ComputeError as exc:
        if "utf-8" in str(exc).lower():
            return None  # invalid UTF-8 past the head: decode as the general path does
        raise


def _end_of_line(payload: bytes, lines: int) -> int:
    """Offset of the newline ending line ``lines`` (1-based), or -1 if the file is shorter."""
    position = -1
    for _ in range(lines):
        position = payload.find(b"\n", position + 1)
        if position < 0:
            return -1
    return position


def _csv_deck(
    payload: bytes, found: tuple[str, int, ColumnMapping], notes: list[str], source: str
) -> RawDeck:
    delimiter, header_line, mapping = found
    first_data_line = header_line if mapping.positional else header_line + 1
    data = payload[_start_of_line(payload, first_data_line) :]
    frame, wider = _polars_read(payload, delimiter, header_line, mapping, data, source)
    frame = _fit_width(frame, mapping.names)
    lines = line_count(data)
    if frame.height != lines:  # a record took more than one line
        raise _swallowed_lines(data, delimiter, first_data_line, source)
    shape = _row_shapes(frame, data, delimiter, mapping, first_data_line, wider, source)
    return RawDeck(
        tables=[
            RawTable(
                frame=frame,
                first_row_number=first_data_line + 1,
                mapping=mapping,
                shape_reasons=shape,
            )
        ],
        source_format="csv",
        notes=notes + mapping.notes,
    )


def _polars_read(
    payload: bytes,
    delimiter: str,
    header_line: int,
    mapping: ColumnMapping,
    data: bytes,
    source: str,
) -> tuple[pl.DataFrame, bool]:
    """The rows as text, and whether some row has more fields than the header.

    Read strictly first: polars refuses a row wider than the header, which proves that none
    is. With a header, polars reads it too, so the header (not the first data line) fixes the
    width; the names come from our own parse (unique, blanks named).
    """
    for truncate in (False, True):
        try:
            frame = pl.read_csv(
                payload,
                has_header=not mapping.positional,
                separator=delimiter,
                skip_lines=header_line,
                infer_schema=False,
                truncate_ragged_lines=truncate,
                raise_if_empty=False,
            )
        except pl.exceptions.ComputeError as exc:
            message = str(exc)
            if "utf-8" in message.lower():
                raise  # the fast path decodes as the general path does
            if not truncate and "more fields" in message:
                continue
            first_data_line = header_line if mapping.positional else header_line + 1
            raise _swallowed_lines(data, delimiter, first_data_line, source) from None
        return frame, truncate
    raise AssertionError("unreachable")


def _start_of_line(payload: bytes, line: int) -> int:
    """Offset of 0-based line ``line`` (the file's length when it has fewer lines)."""
    if line == 0:
        return 0
    end = _end_of_line(payload, line)
    return len(payload) if end < 0 else end + 1


def _swallowed_lines(
    data: bytes, delimiter: str, first_data_line: int, source: str
) -> MalformedCsvError:
    """The one-line refusal for quotes that run over line ends (a stray or unclosed '"')."""
    span = _first_broken_record(data, delimiter)
    if span is None:
        return MalformedCsvError(f"{source}: the CSV file's quoting could not be read")
    first, last = span
    start = first_data_line + 1 + first
    if last is None:
        where = "a quote is never closed: the field runs to the end of the file"
    elif last == first:
        where = "a quoted field is closed in the middle of the field"
    else:
        where = (
            f"a quoted field runs over line ends to line {first_data_line + 1 + last}, "
            "swallowing the rows between"
        )
    return MalformedCsvError(f"{source}: line {start}: {where} (a stray '\"'?); refusing the deck")


def _first_broken_record(data: bytes, delimiter: str) -> tuple[int, int | None] | None:
    """(first, last) 0-based data line of the first record whose quotes span lines or are
    broken; last is None when the quote is never closed. Python's csv module sees quotes
    where polars does (at the start of a field); this runs only on a file being refused."""
    text = data.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return None
        except csv.Error as exc:
            return start, None if "end of data" in str(exc) else reader.line_num - 1
        if any("\n" in cell or "\r" in cell for cell in cells):
            return start, reader.line_num - 1
        start = reader.line_num


def _row_shapes(
    frame: pl.DataFrame,
    data: bytes,
    delimiter: str,
    mapping: ColumnMapping,
    first_data_line: int,
    wider: bool,
    source: str,
) -> pl.Series | None:
    """Per data row, why its field count cannot be trusted (null when it can); None when
    every row is fine.

    A row wider than the header (not counting empty trailing fields) is refused: its fields
    may be shifted (``0,1175`` unquoted is two fields). A shorter row is refused when it
    lacks a column the deck maps to a field; when only ignored columns are missing it is
    read as it is. When every row is wider, the deck is refused.

    Counting fields is the slow part, so it is skipped where polars already proves the
    count: with no row wider (a strict read passed), only a row whose last mapped column is
    null can be short, and a file without quotes whose separators add up proves even that.
    """
    width = len(mapping.names)
    if wider:
        suspects = None
    elif _proven_rectangular(data, delimiter, width, frame.height):
        return None
    else:
        last_mapped = mapping.names[max(mapping.columns.values())]
        suspects = frame.select(pl.col(last_mapped).is_null().arg_true()).to_series()
        if suspects.is_empty():
            return None
    counts = field_counts(data, delimiter, width, suspects)
    too_wide = ~counts["blank"] & (counts["content"] > width)
    if wider and counts.height and too_wide.sum() == (~counts["blank"]).sum():
        raise _every_row_wider(counts, width, first_data_line, source)
    missing = _missing_columns(counts["fields"], mapping)
    too_short = ~counts["blank"] & (counts["fields"] < width)
    reasons = counts.select(
        pl.when(too_wide)
        .then(
            pl.concat_str(
                pl.lit("row: "),
                pl.col("content").cast(pl.String),
                pl.lit(f" fields but the header has {width} (extra '"),
                pl.col("extra").str.slice(0, 40),
                pl.lit("')"),
            )
        )
        .when(too_short & pl.col("fields").is_in(list(missing)))
        .then(
            pl.concat_str(
                pl.lit("row: "),
                pl.col("fields").cast(pl.String),
                pl.lit(f" fields but the header has {width} (missing "),
                pl.col("fields").replace_strict(missing, default=None, return_dtype=pl.String),
                pl.lit(")"),
            )
        )
        .alias("_shape")
    ).to_series()
    if reasons.null_count() == reasons.len():
        return None
    if suspects is None:
        return reasons
    return pl.repeat(None, frame.height, dtype=pl.String, eager=True).scatter(suspects, reasons)


def _proven_rectangular(data: bytes, delimiter: str, width: int, lines: int) -> bool:
    """Every line has exactly ``width`` fields, proven without a parse: no quote anywhere, no
    line has more fields (polars read it strictly) and the separators add up to
    (width - 1) per line. Anything else (quotes, blank lines...) takes the exact count."""
    return b'"' not in data and data.count(delimiter.encode()) == (width - 1) * lines


def _missing_columns(fields: pl.Series, mapping: ColumnMapping) -> dict[int, str]:
    """Field count -> the mapped columns a row that short lacks (only counts that lack one)."""
    mapped = set(mapping.columns.values())
    missing = {}
    for count in fields.unique().to_list():
        lacking = [name for i, name in enumerate(mapping.names) if i >= count and i in mapped]
        if lacking:
            missing[count] = ", ".join(lacking)
    return missing


def _every_row_wider(
    counts: pl.DataFrame, width: int, first_data_line: int, source: str
) -> MalformedCsvError:
    nonblank = counts.with_row_index("_line").filter(~pl.col("blank"))
    first = nonblank.row(0, named=True)
    widths = nonblank["content"].unique()
    if widths.len() == 1:
        rows = f"{widths[0]} fields but the header has {width} columns"
    else:
        rows = f"more fields than the header's {width} columns"
    return MalformedCsvError(
        f"{source}: every data row has {rows} "
        f"(line {first_data_line + 1 + first['_line']}: extra {first['extra'][:40]!r}): "
        "an unquoted decimal comma ('0,1175' must be quoted when commas separate fields) "
        "or a column missing from the header? Refusing the deck"
    )


def _find_csv_header(lines: list[str]) -> tuple[str, int, ColumnMapping] | None:
    """(delimiter, 0-based line of the header or first data line, mapping)."""
    parsed = {delimiter: _parse_lines(lines, delimiter) for delimiter in DELIMITERS}
    for delimiter, records in parsed.items():
        found = find_header([cells for _, cells in records])
        if found is not None:
            index, mapping = found
            return delimiter, records[index][0], mapping
    for delimiter, records in parsed.items():
        nonblank = [(line, cells) for line, cells in records if any(c.strip() for c in cells)]
        positional = positional_mapping([cells for _, cells in nonblank])
        if positional is not None:
            return delimiter, nonblank[0][0], positional
    return None


def _parse_lines(lines: list[str], delimiter: str) -> list[tuple[int, list[str]]]:
    """Records with the 0-based line each starts on (the csv module tracks quoted newlines)."""
    reader = csv.reader(lines, delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    start = 0
    try:
        for cells in reader:
            records.append((start, cells))
            start = reader.line_num
    except csv.Error:
        pass  # a broken quote deep in the sample: what was read before it still counts
    return records


def _fit_width(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Names the columns after the header; pads with nulls or drops extra unnamed columns."""
    width = len(names)
    columns = frame.columns[:width]
    frame = frame.select(
        [pl.col(old).alias(new) for old, new in zip(columns, names, strict=False)]
        + [pl.lit(None, dtype=pl.String).alias(name) for name in names[len(columns) :]]
    )
    return frame


# --- spreadsheets ------------------------------------------------------------------------

Grid = list[list[str | None]]


def excel_number_text(value: float | int) -> str:
    """The decimal text of a number cell: the shortest text that reads back as the same double.

    A price typed as 0.1617 is stored as the nearest double, whose shortest repr is "0.1617"
    again; never more digits than were written, and never fewer (no rounding). Float noise
    from a formula (0.30000000000000004) stays visible, so the price check refuses it.
    """
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return format(Decimal(repr(value)), "f")


def _cell_text(value: Any) -> str | None:
    """openpyxl cell value -> text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return excel_number_text(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value)


def _xls_sheets(
    data: bytes, source: str, deadline: Deadline
) -> tuple[list[tuple[str, Grid]], datetime]:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
    except Exception as exc:  # xlrd raises bare XLRDError/CompDocError/struct errors
        raise UnrecognisedFormatError(
            f"{source}: not a rate deck: an OLE2 file but not a readable XLS workbook ({exc})"
        ) from None
    epoch = EXCEL_1904_EPOCH if book.datemode else EXCEL_1900_EPOCH
    sheets = []
    for sheet_index in range(book.nsheets):
        sheet = book.sheet_by_index(sheet_index)
        grid = []
        for r in range(sheet.nrows):
            if r % _DEADLINE_ROWS == 0:
                deadline.check(f"sheet {sheet.name!r} row {r + 1}")
            grid.append(_xls_row(sheet.row_types(r), sheet.row_values(r), book.datemode))
        sheets.append((sheet.name, grid))
        book.unload_sheet(sheet_index)
    return sheets, epoch


def _xls_row(
    types: Sequence[int], values: Sequence[Any], datemode: Literal[0, 1]
) -> list[str | None]:
    import xlrd

    row: list[str | None] = []
    for kind, value in zip(types, values, strict=True):
        if kind == xlrd.XL_CELL_TEXT:
            row.append(value)
        elif kind == xlrd.XL_CELL_NUMBER:
            row.append(excel_number_text(value))
        elif kind == xlrd.XL_CELL_DATE:
            try:
                row.append(xlrd.xldate.xldate_as_datetime(value, datemode).isoformat(sep=" "))
            except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                row.append(excel_number_text(value))
        elif kind == xlrd.XL_CELL_BOOLEAN:
            row.append("TRUE" if value else "FALSE")
        elif kind == xlrd.XL_CELL_ERROR:
            row.append(xlrd.error_text_from_code.get(value, "#ERROR"))
        else:
            row.append(None)
    return row


def _xlsx_sheets(
    data: bytes, source: str, deadline: Deadline
) -> tuple[list[tuple[str, Grid]], datetime]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise UnrecognisedFormatError(
            f"{source}: not a rate deck: not a readable XLSX workbook ({exc})"
        ) from None
    try:
        epoch = EXCEL_1904_EPOCH if book.epoch.year == 1904 else EXCEL_1900_EPOCH
        sheets = []
        for sheet in book.worksheets:
            grid = []
            for r, row in enumerate(sheet.iter_rows(values_only=True)):
                if r % _DEADLINE_ROWS == 0:
                    deadline.check(f"sheet {sheet.title!r} row {r + 1}")
                grid.append([_cell_text(value) for value in row])
            sheets.append((sheet.title, grid))
    finally:
        book.close()
    return sheets, epoch


def _deck_from_sheets(
    sheets: list[tuple[str, Grid]], fmt: DeckFormat, epoch: datetime, source: str
) -> RawDeck:
    tables: list[RawTable] = []
    notes: list[str] = []
    previous: ColumnMapping | None = None
    for name, grid in sheets:
        if not any(any(cell is not None and cell.strip() for cell in row) for row in grid):
            continue
        found = find_header(grid)
        if found is not None:
            header_index, mapping = found
            start = header_index + 1
            notes.extend(f"sheet {name!r}: {note}" for note in mapping.notes)
        elif previous is not None and _continues(grid, previous):
            mapping, start = previous, 0
            notes.append(f"sheet {name!r}: no header row; read with the previous sheet's columns")
        elif not tables and (positional := positional_mapping(grid)) is not None:
            mapping, start = positional, _first_nonblank(grid)
        else:
            notes.append(f"sheet {name!r}: no header row; skipped")
            continue
        tables.append(_table_from_grid(grid[start:], start + 1, mapping, name))
        previous = mapping
    if not tables:
        raise _no_header(source, " in any sheet")
    return RawDeck(tables=tables, source_format=fmt, excel_epoch=epoch, notes=notes)


def _first_nonblank(grid: Grid) -> int:
    return next(i for i, row in enumerate(grid) if any(c and c.strip() for c in row))


def _continues(grid: Grid, mapping: ColumnMapping) -> bool:
    """A header-less sheet whose first row has a digits-only prefix where the last one had."""
    row = grid[_first_nonblank(grid)]
    index = mapping.columns["prefix"]
    cell = row[index] if index < len(row) else None
    return bool(cell and re.fullmatch(r"\+?[0-9 ]+", cell.strip()))


def _table_from_grid(
    rows: Grid, first_row_number: int, mapping: ColumnMapping, sheet: str
) -> RawTable:
    width = len(mapping.names)
    columns: list[list[str | None]] = [[] for _ in range(width)]
    for row in rows:
        for index in range(width):
            columns[index].append(row[index] if index < len(row) else None)
    frame = pl.DataFrame(
        {name: values for name, values in zip(mapping.names, columns, strict=True)},
        schema=dict.fromkeys(mapping.names, pl.String),
    )
    return RawTable(frame=frame, first_row_number=first_row_number, mapping=mapping, sheet=sheet)
