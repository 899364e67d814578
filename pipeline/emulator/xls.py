"""Rate deck files as CommPeak serves them: CSV, legacy XLS (xlwt) and, for tests, XLSX.

Columns: ``Destination, Prefix, Price, Billing Increments`` (+ ``Effective Date``).
CSV prices are the exact decimal text. In XLS/XLSX the price is a numeric cell and the
effective date a date cell (``yyyy-mm-dd``), as a spreadsheet program would write them; an
XLS number is a binary double, so a reader recovers the exact price from the double's
shortest repr (``0.1617``). Prefixes are always text cells (leading zeros matter).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Literal

from pipeline.emulator.market import DeckRow

HEADER = ("Destination", "Prefix", "Price", "Billing Increments")
EFFECTIVE_DATE_COLUMN = "Effective Date"
XLS_MAX_ROWS = 65_536  # per sheet, header included (BIFF8)
XLSX_MAX_ROWS = 1_048_576
SHEET_NAME = "Rates"
FIXED_TIMESTAMP = datetime(2020, 1, 1)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
DeckFormat = Literal["csv", "xls", "xlsx"]
MEDIA_TYPES = {
    "csv": "text/csv",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def header(effective_dates: bool) -> tuple[str, ...]:
    return (*HEADER, EFFECTIVE_DATE_COLUMN) if effective_dates else HEADER


def render_deck(
    rows: Sequence[DeckRow], fmt: DeckFormat, *, effective_dates: bool | None = None
) -> bytes:
    """The deck file's bytes. ``effective_dates=None``: the column is there when a row has a date."""
    if effective_dates is None:
        effective_dates = any(r.effective_date is not None for r in rows)
    if fmt == "csv":
        return _csv(rows, effective_dates)
    if fmt == "xls":
        return _xls(rows, effective_dates)
    if fmt == "xlsx":
        return _xlsx(rows, effective_dates)
    raise ValueError(f"unknown deck format {fmt!r}: expected csv, xls or xlsx")


def _csv(rows: Sequence[DeckRow], effective_dates: bool) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header(effective_dates))
    if effective_dates:
        writer.writerows(
            (
                r.destination,
                r.prefix,
                format(r.price, "f"),
                r.billing_increments,
                r.effective_date.isoformat() if r.effective_date else "",
            )
            for r in rows
        )
    else:
        writer.writerows(
            (r.destination, r.prefix, format(r.price, "f"), r.billing_increments) for r in rows
        )
    return out.getvalue().encode("utf-8")


def _chunks(rows: Sequence[DeckRow], per_sheet: int) -> Iterator[Sequence[DeckRow]]:
    yield rows[:per_sheet]  # an empty deck still has one sheet with its header
    for start in range(per_sheet, len(rows), per_sheet):
        yield rows[start : start + per_sheet]


def sheet_name(index: int) -> str:
    return SHEET_NAME if index == 0 else f"{SHEET_NAME} ({index + 1})"


def _xls(rows: Sequence[DeckRow], effective_dates: bool) -> bytes:
    """One sheet per 65,535 rows, each with the header row."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    columns = header(effective_dates)
    for index, chunk in enumerate(_chunks(rows, XLS_MAX_ROWS - 1)):
        sheet = book.add_sheet(sheet_name(index))
        first = sheet.row(0)
        for col, title in enumerate(columns):
            first.set_cell_text(col, title)
        for rowx, r in enumerate(chunk, start=1):
            row = sheet.row(rowx)
            row.set_cell_text(0, r.destination)
            row.set_cell_text(1, r.prefix)
            row.set_cell_number(2, float(r.price))  # what any XLS writer stores
            row.set_cell_text(3, r.billing_increments)
            if effective_dates and r.effective_date is not None:
                row.set_cell_date(4, r.effective_date, date_style)
        # xlwt keeps every row object: drop them once flushed to keep big decks in memory bounds
        sheet.flush_row_data()
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx(rows: Sequence[DeckRow], effective_dates: bool) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    book.properties.created = book.properties.modified = FIXED_TIMESTAMP
    columns = header(effective_dates)
    for index, chunk in enumerate(_chunks(rows, XLSX_MAX_ROWS - 1)):
        sheet = book.create_sheet(sheet_name(index))
        sheet.append(columns)
        for r in chunk:
            values: list[object] = [r.destination, r.prefix, r.price, r.billing_increments]
            if effective_dates:
                # types-openpyxl narrows value to str|float|datetime; openpyxl stores a date as is
                cell = WriteOnlyCell(sheet, value=r.effective_date)  # type: ignore[arg-type]
                cell.number_format = "yyyy-mm-dd"
                values.append(cell)
            sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    return _without_zip_timestamps(out.getvalue())


def _without_zip_timestamps(data: bytes) -> bytes:
    """openpyxl stamps zip members with the current time: fix them so bytes are reproducible."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl sets "modified" to now on save
                content = _MODIFIED.sub(rb"\g<1>2020-01-01T00:00:00Z\g<2>", content)
            target.writestr(fixed, content)
    return out.getvalue()


def malformed_xls() -> bytes:
    """Starts like an OLE2 compound file (what sniffers check) but is garbage after that."""
    return (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00\x3e\x00\x03\xfe\xff" + b"not a workbook" * 40
    )
