"""Deck builders for the ingest tests: the same rows written as CSV, XLS (xlwt) or XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlwt

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "realdata"
SHARED_REALDATA = REPO.parent / "shared" / "realdata"

Row = Sequence[Any]


def csv_bytes(
    rows: Sequence[Row],
    *,
    delimiter: str = ",",
    line_end: str = "\n",
    encoding: str = "utf-8",
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=line_end)
    for row in rows:
        writer.writerow(["" if cell is None else cell for cell in row])
    return out.getvalue().encode(encoding)


_XLS_DATE = xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm:ss")


def xls_bytes(sheets: dict[str, Sequence[Row]], *, dates_1904: bool = False) -> bytes:
    """Numbers stay numbers (floats in the file), datetimes become date-formatted cells."""
    book = xlwt.Workbook()
    book.dates_1904 = dates_1904
    for name, rows in sheets.items():
        sheet = book.add_sheet(name)
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                if cell is None:
                    continue
                if isinstance(cell, datetime | date):
                    sheet.write(r, c, cell, _XLS_DATE)
                else:
                    sheet.write(r, c, cell)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_bytes(sheets: dict[str, Sequence[Row]], *, dates_1904: bool = False) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    if dates_1904:
        from openpyxl.utils.datetime import CALENDAR_MAC_1904

        book.epoch = CALENDAR_MAC_1904
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, cell in enumerate(row, start=1):
                if cell is not None:
                    sheet.cell(row=r, column=c, value=cell)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class DeckWriter:
    """The same rows as CSV, XLS or XLSX bytes (a fixture: test modules import nothing)."""

    csv = staticmethod(csv_bytes)
    xls = staticmethod(xls_bytes)
    xlsx = staticmethod(xlsx_bytes)


@pytest.fixture(scope="session")
def decks() -> DeckWriter:
    return DeckWriter()


@pytest.fixture(scope="session")
def sdf_deck() -> bytes:
    """The Apache-2.0 SDF deck copied into tests/fixtures/realdata (see NOTICE.md there)."""
    return (FIXTURES / "decal_sdf-outbound-rates.csv").read_bytes()


@pytest.fixture(scope="session")
def shared_realdata() -> Callable[[str], bytes]:
    """Reads ../shared/realdata/<name> (GPL data is not copied into the repo); skips if absent."""

    def read(name: str) -> bytes:
        path = SHARED_REALDATA / name
        if not path.exists():
            pytest.skip(f"{path} not present")
        return path.read_bytes()

    return read
