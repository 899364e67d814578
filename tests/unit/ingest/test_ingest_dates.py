"""Effective dates: ISO, day/month order decided per column, Excel serials."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from pipeline.ingest.dates import parse_effective_dates
from pipeline.ingest.tabular import EXCEL_1900_EPOCH
from pipeline.ingest.voice import normalize_voice_deck


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def parse(values: list[str | None], excel: bool = False):
    parsed = parse_effective_dates(
        pl.Series(values, dtype=pl.String), excel_epoch=EXCEL_1900_EPOCH if excel else None
    )
    return parsed.values.to_list(), parsed.reasons.to_list(), parsed.notes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-05", utc(2026, 11, 5)),
        ("2026-11-05 06:55", utc(2026, 11, 5, 6, 55)),
        ("2026-11-05 06:55:00", utc(2026, 11, 5, 6, 55)),
        ("2010-07-02 11:06:58.484053", utc(2010, 7, 2, 11, 6, 58, 484053)),
        ("2026-11-05T06:55:00Z", utc(2026, 11, 5, 6, 55)),
        ("2026-11-05 10:00:00+02:00", utc(2026, 11, 5, 8, 0)),
        ("2026-11-05 10:00:00 UTC", utc(2026, 11, 5, 10, 0)),
    ],
)
def test_iso(text: str, expected: datetime) -> None:
    values, reasons, notes = parse([text])
    assert (values, reasons, notes) == ([expected], [None], [])


def test_day_above_twelve_decides_day_first_for_the_column() -> None:
    values, reasons, notes = parse(["05/11/2026", "13/01/2026 6:55", "31.12.2026"])
    assert values == [utc(2026, 11, 5), utc(2026, 1, 13, 6, 55), utc(2026, 12, 31)]
    assert reasons == [None, None, None]
    assert notes == []


def test_month_first_when_the_second_number_exceeds_twelve() -> None:
    values, reasons, _ = parse(["11/05/2026", "01/13/2026"])
    assert values == [utc(2026, 11, 5), utc(2026, 1, 13)]
    assert reasons == [None, None]


def test_all_ambiguous_reads_day_first_with_a_note() -> None:
    values, _, notes = parse(["05/11/2026", "01/02/2026"])
    assert values == [utc(2026, 11, 5), utc(2026, 2, 1)]
    assert notes == [
        "effective dates: all 2 day/month dates are ambiguous (both numbers <= 12): "
        "read as dd/mm/yyyy"
    ]


def test_value_against_the_column_order_is_refused() -> None:
    values, reasons, _ = parse(["13/01/2026", "01/13/2026"])
    assert values == [utc(2026, 1, 13), None]
    assert reasons == [None, "effective date: not a valid dd/mm/yyyy date '01/13/2026'"]


def test_excel_serials_only_from_spreadsheets() -> None:
    values, reasons, _ = parse(["46331", "46331.25", "0", None], excel=True)
    assert values == [utc(2026, 11, 5), utc(2026, 11, 5, 6), None, None]
    assert reasons == [None, None, "effective date: Excel serial out of range '0'", None]
    values, reasons, _ = parse(["46331"])
    assert values == [None]
    assert reasons == ["effective date: unrecognised date '46331'"]


def test_deck_effective_dates_in_spreadsheets(decks) -> None:
    header = ["Destination", "Prefix", "Price", "Increments", "Effective Date"]
    rows = [
        header,
        ["A", "1", "0.1", "1/1", datetime(2026, 11, 5, 6, 55)],  # a date cell
        ["B", "2", "0.1", "1/1", 46331],  # a serial in a number cell
        ["C", "3", "0.1", "1/1", 46331.5],
        ["D", "4", "0.1", "1/1", "2026-11-05"],  # text
        ["E", "5", "0.1", "1/1", "13/11/2026"],
    ]
    expected = [
        utc(2026, 11, 5, 6, 55),
        utc(2026, 11, 5),
        utc(2026, 11, 5, 12),
        utc(2026, 11, 5),
        utc(2026, 11, 13),
    ]
    for data in (decks.xls({"Rates": rows}), decks.xlsx({"Rates": rows})):
        result = normalize_voice_deck(data, source="x")
        assert result.rows["effective_at"].to_list() == expected


def test_1904_workbooks(decks) -> None:
    rows = [["Destination", "Prefix", "Price", "Effective"], ["A", "1", "0.1", 44869]]
    for data in (
        decks.xls({"Rates": rows}, dates_1904=True),
        decks.xlsx({"Rates": rows}, dates_1904=True),
    ):
        assert normalize_voice_deck(data, source="x").rows["effective_at"].to_list() == [
            utc(2026, 11, 5)
        ]
