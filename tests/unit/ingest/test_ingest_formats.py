"""One deck, three formats: CSV, XLS and XLSX must give identical canonical frames."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest

from pipeline.ingest.errors import NoHeaderError, UnrecognisedFormatError
from pipeline.ingest.sniff import OLE2_MAGIC
from pipeline.ingest.tabular import excel_number_text
from pipeline.ingest.voice import normalize_voice_deck

HEADER = ["Destination", "Prefix", "Price", "Billing Increments", "Effective Date"]
# (destination, prefix, price, increments, effective) as typed; prices as numbers in sheets
DECK = [
    ("Ireland - Fixed", 353, "0.0185", "1/1", datetime(2026, 11, 5)),
    ("Ireland - Mobile", 35389, "0.1617", "60/60", datetime(2026, 11, 5)),
    ("Ireland - Mobile - Lycatel", 3538994, "0.1582", "60/1", datetime(2026, 12, 1, 6, 55)),
    ("Premium, shared cost", 3531500, "1.2", "30/6", datetime(2026, 11, 5)),
    ("Tiny", 1, "0.00001", "1/1", datetime(2026, 11, 5)),
    ("Free", 800, "0", "1/1", datetime(2026, 11, 5)),
    ("Bad price", 354, "", "1/1", datetime(2026, 11, 5)),
    ("Bad prefix", "35X", "0.1", "1/1", datetime(2026, 11, 5)),
]


def as_text_rows(deck):
    return [
        [name, str(prefix), price, increments, when.isoformat(sep=" ")]
        for name, prefix, price, increments, when in deck
    ]


def as_sheet_rows(deck):
    """What a spreadsheet holds: numeric prefixes and prices are float cells."""
    return [
        [
            name,
            float(prefix) if isinstance(prefix, int) else prefix,
            float(price) if price else None,
            increments,
            when,
        ]
        for name, prefix, price, increments, when in deck
    ]


def title_rows():
    return [["Rate deck for ACME"], ["Generated 2026-11-01"], []]


def test_csv_xls_xlsx_give_identical_frames(decks) -> None:
    csv = decks.csv([*title_rows(), HEADER, *as_text_rows(DECK)])
    sheet = [*title_rows(), HEADER, *as_sheet_rows(DECK)]
    results = [
        normalize_voice_deck(csv, source="deck.csv"),
        normalize_voice_deck(decks.xls({"Rates": sheet}), source="deck.xls"),
        normalize_voice_deck(decks.xlsx({"Rates": sheet}), source="deck.xlsx"),
    ]
    assert [result.source_format for result in results] == ["csv", "xls", "xlsx"]
    first = results[0]
    assert first.rows.height == 6
    assert first.rows["price"].to_list()[:5] == [
        Decimal("0.0185"),
        Decimal("0.1617"),
        Decimal("0.1582"),
        Decimal("1.2"),
        Decimal("0.00001"),
    ]
    assert first.rows["prefix"].to_list()[:3] == ["353", "35389", "3538994"]
    for other in results[1:]:
        assert other.rows.equals(first.rows)
        assert other.rejects.select("row_number", "reason").equals(
            first.rejects.select("row_number", "reason")
        )
        assert other.total_rows == first.total_rows
    assert first.rejects.select("row_number", "reason").rows() == [
        (11, "price: empty"),
        (12, "prefix: contains letters '35X'"),
    ]
    assert results[1].rejects["sheet"].to_list() == ["Rates", "Rates"]
    assert json.loads(results[1].rejects["raw"][1]) == {
        "Destination": "Bad prefix",
        "Prefix": "35X",
        "Price": "0.1",
        "Billing Increments": "1/1",
        "Effective Date": "2026-11-05 00:00:00",
    }


def test_multi_sheet_workbooks(decks) -> None:
    """A big deck spans sheets, each with its header; a notes sheet without one is skipped."""
    sheets = {
        "A-I": [HEADER, *as_sheet_rows(DECK[:3])],
        "Notes": [["Prices in USD per minute"], ["Questions: noc@example.com"]],
        "Empty": [],
        "J-Z": [["Rates continued"], HEADER, *as_sheet_rows(DECK[3:6]), *as_sheet_rows(DECK[:1])],
    }
    csv = normalize_voice_deck(decks.csv([HEADER, *as_text_rows(DECK[:6])]), source="x.csv")
    for data in (decks.xls(sheets), decks.xlsx(sheets)):
        result = normalize_voice_deck(data, source="x")
        assert result.rows.drop("row_number").equals(csv.rows.drop("row_number"))
        assert result.rows["row_number"].to_list() == [2, 3, 4, 3, 4, 5]
        assert result.rejects.select("row_number", "sheet", "reason").rows() == [
            (6, "J-Z", "duplicate of row 2 (sheet 'A-I')")
        ]
        assert "sheet 'Notes': no header row; skipped" in result.notes


def test_conflicts_across_sheets_name_the_sheets(decks) -> None:
    header = HEADER[:4]
    sheets = {
        "One": [header, ["UK", 44.0, 0.2, "1/1"], ["France", 33.0, 0.1, "1/1"]],
        "Two": [header, ["UK", 44.0, 0.3, "1/1"]],
    }
    result = normalize_voice_deck(decks.xlsx(sheets), source="x")
    conflict = (
        "conflicting duplicate prefix 44: row 2 (sheet 'One'), row 2 (sheet 'Two') differ in price"
    )
    assert result.rejects.select("sheet", "reason").rows() == [
        ("One", conflict),
        ("Two", conflict),
    ]


def test_headerless_continuation_sheet(decks) -> None:
    sheets = {
        "1": [HEADER[:4], ["UK", 44.0, 0.2, "1/1"]],
        "2": [["France", 33.0, 0.1, "1/1"]],
    }
    result = normalize_voice_deck(decks.xls(sheets), source="x")
    assert result.rows.select("row_number", "prefix").rows() == [(2, "44"), (1, "33")]
    assert result.notes == ["sheet '2': no header row; read with the previous sheet's columns"]


def test_workbook_without_header_names_the_source(decks) -> None:
    with pytest.raises(NoHeaderError, match=r"^x.xlsx: no header row found in any sheet"):
        normalize_voice_deck(decks.xlsx({"S": [["a", "b"], ["c", "d"]]}), source="x.xlsx")


def test_ole2_file_that_is_not_a_workbook() -> None:
    with pytest.raises(UnrecognisedFormatError, match=r"^x.xls: not a rate deck: an OLE2 file"):
        normalize_voice_deck(OLE2_MAGIC + b"\x00" * 600, source="x.xls")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (353.0, "353"),
        (0.1617, "0.1617"),
        (0.0185, "0.0185"),
        (1e-05, "0.00001"),
        (0.1 + 0.2, "0.30000000000000004"),  # formula noise: shown, so refused later
        (12345678.12345678, "12345678.12345678"),  # 16 digits: kept, not rounded
        (1e16, "10000000000000000"),
        (12, "12"),
        (0.123456789, "0.123456789"),  # still refused later: more than 8 decimals
    ],
)
def test_excel_number_text(value: float, text: str) -> None:
    assert excel_number_text(value) == text


def test_more_than_eight_decimals_refused_in_sheets_too(decks) -> None:
    rows = [HEADER[:3], ["UK", 44.0, 0.123456789], ["FR", 33.0, 0.1]]
    result = normalize_voice_deck(decks.xls({"S": rows}), source="x")
    assert result.rejects["reason"].to_list() == [
        "price: more than 8 decimal places; refusing to round '0.123456789'"
    ]


@pytest.mark.slow  # reads 65,536+ rows of .xls
def test_xls_deck_over_one_sheet_limit(decks) -> None:
    """XLS holds 65,536 rows per sheet: a bigger deck continues on a second sheet."""
    rows = [
        [f"Destination {i % 97}", str(100_000 + i), f"0.{i % 9973:04d}", "60/1"]
        for i in range(70_000)
    ]
    per_sheet = 65_535
    sheets = {
        "Rates": [HEADER[:4], *rows[:per_sheet]],
        "Rates (2)": [HEADER[:4], *rows[per_sheet:]],
    }
    from_xls = normalize_voice_deck(decks.xls(sheets), source="big.xls")
    from_csv = normalize_voice_deck(decks.csv([HEADER[:4], *rows]), source="big.csv")
    assert from_xls.rows.height == 70_000
    assert from_xls.rows.drop("row_number").equals(from_csv.rows.drop("row_number"))
    assert from_xls.rows["row_number"].to_list()[per_sheet - 1 : per_sheet + 1] == [65_536, 2]
