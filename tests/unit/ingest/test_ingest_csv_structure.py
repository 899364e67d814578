"""A CSV whose structure is off: rows wider or narrower than the header, quotes that swallow
line ends. Each is a reject with a reason or a one-line refusal naming the file and line,
never a silently shifted, padded or merged row."""

from __future__ import annotations

import pytest

from pipeline.ingest.errors import MalformedCsvError
from pipeline.ingest.voice import normalize_voice_deck


def reasons(result) -> dict[int, str]:
    return dict(zip(result.rejects["row_number"], result.rejects["reason"], strict=True))


def lines(*rows: str) -> bytes:
    return ("\n".join(rows) + "\n").encode()


def test_an_unquoted_decimal_comma_is_a_reject_not_a_price_of_zero() -> None:
    data = lines(
        "Destination,Prefix,Price",
        "Ireland,353,0.1175",
        "Ireland - Mobile,35389,0,1175",
        "UK,44,0.02",
    )
    result = normalize_voice_deck(data, source="eu.csv")
    assert reasons(result) == {3: "row: 4 fields but the header has 3 (extra '1175')"}
    assert result.rows["prefix"].to_list() == ["353", "44"]


def test_a_deck_where_every_row_is_one_field_wider_is_refused_naming_the_cause() -> None:
    data = lines("Destination,Prefix,Price", "Ireland,353,0,1175", "UK,44,0,02")
    with pytest.raises(MalformedCsvError) as caught:
        normalize_voice_deck(data, source="eu.csv")
    assert str(caught.value) == (
        "eu.csv: every data row has 4 fields but the header has 3 columns (line 2: extra '1175'): "
        "an unquoted decimal comma ('0,1175' must be quoted when commas separate fields) "
        "or a column missing from the header? Refusing the deck"
    )
    assert caught.value.exit_code == 2


def test_extra_fields_behind_quotes_are_counted_after_the_quoted_field() -> None:
    data = lines(
        "Destination,Prefix,Price",
        '"Anguilla, Mobile",1264772,0.2',
        '"Anguilla, Fixed",1264,0,2',
        '"He said ""hi"", ok",1265,0.3,"x, y"',
    )
    result = normalize_voice_deck(data, source="x.csv")
    assert reasons(result) == {
        3: "row: 4 fields but the header has 3 (extra '2')",
        4: "row: 4 fields but the header has 3 (extra '\"x, y\"')",
    }
    assert result.rows["destination"].to_list() == ["Anguilla, Mobile"]


def test_trailing_empty_fields_are_not_extra_fields() -> None:
    data = lines("Destination,Prefix,Price", "Ireland,353,0.1,", "UK,44,0.2,,  ,", "", "FR,33,0.3")
    result = normalize_voice_deck(data, source="x.csv")
    assert result.rejects.height == 0
    assert result.rows["prefix"].to_list() == ["353", "44", "33"]
    assert "skipped 1 blank row" in result.notes


def test_a_short_row_missing_a_mapped_column_is_a_reject_with_the_missing_names() -> None:
    data = lines(
        "Destination,Prefix,Price,Currency,Status",
        "Ireland,353,0.1,USD,Current",
        "Ireland - Mobile,35389",
        "UK,44,0.2",
        "FR,33,0.3,,",
    )
    result = normalize_voice_deck(data, source="x.csv")
    assert reasons(result) == {
        3: "row: 2 fields but the header has 5 (missing Price, Currency)",
        4: "row: 3 fields but the header has 5 (missing Currency)",
    }
    assert result.rows["prefix"].to_list() == ["353", "33"]  # an empty field is a field


def test_a_short_row_missing_only_ignored_columns_is_read_as_it_is() -> None:
    data = lines(
        "Destination,Prefix,Price,Status,End Date",
        "Ireland,353,0.1,Current,",
        "UK,44,0.2,Current",
        "FR,33,0.3",
    )
    result = normalize_voice_deck(data, source="x.csv")
    assert result.rejects.height == 0
    assert result.rows["prefix"].to_list() == ["353", "44", "33"]
    assert "ignored columns: Status, End Date" in result.notes


def test_a_stray_quote_that_swallows_rows_refuses_the_deck_naming_the_line() -> None:
    rows = ["Destination,Prefix,Price"] + [f"Land {i},{100 + i},0.{i + 1}" for i in range(9)]
    rows[3] = '"' + rows[3]  # line 4 opens a quote...
    rows[7] = rows[7].replace(",", '",', 1)  # ...that line 8 closes
    with pytest.raises(MalformedCsvError) as caught:
        normalize_voice_deck(lines(*rows), source="raw/voice/current/deck.csv")
    assert str(caught.value) == (
        "raw/voice/current/deck.csv: line 4: a quoted field runs over line ends to line 8, "
        "swallowing the rows between (a stray '\"'?); refusing the deck"
    )


def test_a_line_break_inside_a_quoted_destination_is_refused() -> None:
    data = b'Destination,Prefix,Price\nUK,44,0.1\n"Ireland\nFixed",353,0.1\n'
    with pytest.raises(MalformedCsvError, match=r"^x.csv: line 3: a quoted field runs over"):
        normalize_voice_deck(data, source="x.csv")


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
def test_an_unterminated_quote_is_one_line_naming_the_file_and_line(line_end: str) -> None:
    rows = ["Destination,Prefix,Price"] + [f"Land {i},{100 + i},0.{i + 1}" for i in range(60)]
    rows[5] = '"' + rows[5]
    data = (line_end.join(rows) + line_end).encode()
    with pytest.raises(MalformedCsvError) as caught:
        normalize_voice_deck(data, source="deck.csv")
    assert str(caught.value) == (
        "deck.csv: line 6: a quote is never closed: the field runs to the end of the file "
        "(a stray '\"'?); refusing the deck"
    )


def test_a_quote_closed_mid_field_across_lines_names_the_line() -> None:
    rows = ["Destination,Prefix,Price"] + [f"Land {i},{100 + i},0.{i + 1}" for i in range(9)]
    rows[3] = '"' + rows[3]
    rows[6] = rows[6].replace("Land", 'La"nd')
    with pytest.raises(MalformedCsvError) as caught:
        normalize_voice_deck(lines(*rows), source="deck.csv")
    assert str(caught.value).startswith("deck.csv: line 4: a quoted field ")
    assert "\n" not in str(caught.value)
