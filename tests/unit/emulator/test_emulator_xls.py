from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
import xlrd

from pipeline.emulator.market import DeckRow, Market
from pipeline.emulator.xls import XLS_MAX_ROWS, malformed_xls, render_deck

ROWS = [
    DeckRow("Afghanistan - Fixed", "93", Decimal("0.75"), 1, 1),
    DeckRow("Ireland - Mobile", "35389", Decimal("0.1617"), 60, 60),
    DeckRow("Ireland - Mobile - Lycamobile", "3538994", Decimal("0.15820"), 30, 6),
    DeckRow("Korea, South - Mobile", "8210", Decimal("0.00995"), 60, 1),
]


def test_csv_matches_the_collection_example() -> None:
    body = render_deck(ROWS[:1], "csv")
    assert body == b"Destination,Prefix,Price,Billing Increments\nAfghanistan - Fixed,93,0.75,1/1\n"


def test_csv_keeps_exact_price_text_and_quotes_commas() -> None:
    text = render_deck(ROWS, "csv").decode()
    assert "Ireland - Mobile - Lycamobile,3538994,0.15820,30/6" in text
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[4] == ["Korea, South - Mobile", "8210", "0.00995", "60/1"]


def test_csv_effective_date_column() -> None:
    rows = [r._replace(effective_date=date(2026, 11, 9)) for r in ROWS[:2]]
    lines = render_deck(rows, "csv").decode().splitlines()
    assert lines[0] == "Destination,Prefix,Price,Billing Increments,Effective Date"
    assert lines[1] == "Afghanistan - Fixed,93,0.75,1/1,2026-11-09"
    assert render_deck(ROWS, "csv", effective_dates=True).decode().splitlines()[1].endswith(",")


def test_xls_is_a_real_workbook_with_text_prefixes_and_numeric_prices() -> None:
    rows = [r._replace(effective_date=date(2026, 11, 9)) for r in ROWS]
    book = xlrd.open_workbook(file_contents=render_deck(rows, "xls"))
    sheet = book.sheet_by_index(0)
    assert sheet.row_values(0) == [
        "Destination",
        "Prefix",
        "Price",
        "Billing Increments",
        "Effective Date",
    ]
    assert sheet.row_values(3)[:4] == ["Ireland - Mobile - Lycamobile", "3538994", 0.1582, "30/6"]
    assert Decimal(repr(sheet.cell_value(4, 2))) == Decimal("0.00995")
    assert sheet.cell(1, 4).ctype == xlrd.XL_CELL_DATE
    assert xlrd.xldate.xldate_as_datetime(sheet.cell_value(1, 4), book.datemode).date() == date(
        2026, 11, 9
    )


def test_xls_bytes_are_reproducible() -> None:
    assert render_deck(ROWS, "xls") == render_deck(ROWS, "xls")
    assert render_deck(ROWS, "xlsx") == render_deck(ROWS, "xlsx")


@pytest.mark.slow  # writes and reads back 65,536+ rows
def test_xls_over_65536_rows_spans_sheets_each_with_a_header() -> None:
    count = XLS_MAX_ROWS + 10  # just over one sheet (the header takes a row of each)
    rows = [
        DeckRow("Brazil - Mobile - Vivo", f"55{n:07d}", Decimal("0.0123"), 1, 1)
        for n in range(count)
    ]
    book = xlrd.open_workbook(file_contents=render_deck(rows, "xls"))
    assert book.nsheets == 2
    prefixes = []
    for sheet in book.sheets():
        assert sheet.row_values(0)[:2] == ["Destination", "Prefix"]
        prefixes += sheet.col_values(1, start_rowx=1)
    assert book.sheet_by_index(0).nrows == XLS_MAX_ROWS
    assert prefixes == [r.prefix for r in rows]


def test_empty_deck_still_has_a_header() -> None:
    assert render_deck([], "csv") == b"Destination,Prefix,Price,Billing Increments\n"
    sheet = xlrd.open_workbook(file_contents=render_deck([], "xls")).sheet_by_index(0)
    assert sheet.nrows == 1


def test_xlsx_for_other_tests() -> None:
    market = Market(seed=5, start_date=date(2026, 11, 1), deck_size=300, effective_dates=True)
    deck = market.day(date(2026, 11, 2)).voice_deck("current")
    book = openpyxl.load_workbook(io.BytesIO(render_deck(deck, "xlsx")), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][-1] == "Effective Date"
    assert len(rows) == len(deck) + 1
    assert rows[1][1] == deck[0].prefix and Decimal(str(rows[1][2])) == deck[0].price


def test_malformed_xls_is_not_readable() -> None:
    with pytest.raises((xlrd.XLRDError, xlrd.compdoc.CompDocError)):
        xlrd.open_workbook(file_contents=malformed_xls())


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown deck format"):
        render_deck(ROWS, "ods")  # type: ignore[arg-type]
