"""normalize_voice_deck: canonical rows, every reject reason, duplicates, notes, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import polars as pl
import pytest

from pipeline.errors import ConfigError
from pipeline.ingest.errors import MalformedCsvError, NoValidRowsError, TooManyRejectsError
from pipeline.ingest.frames import KEYED_REJECT_SCHEMA, VOICE_RATE_SCHEMA
from pipeline.ingest.phone import INVISIBLE, WHITESPACE
from pipeline.ingest.voice import check_rejects, normalize_voice_deck

HEADER = ["Destination", "Prefix", "Price", "Billing Increments"]
GOOD = ["Ireland - Fixed", "353", "0.0185", "1/1"]


def deck(decks, *rows, header=HEADER, **options) -> bytes:
    return decks.csv([header, *rows], **options)


def reasons(result) -> dict[int, str]:
    return dict(zip(result.rejects["row_number"], result.rejects["reason"], strict=True))


def test_commpeak_example_deck() -> None:
    data = b"Destination,Prefix,Price,Billing Increments\nAfghanistan - Fixed,93,0.75,1/1"
    result = normalize_voice_deck(data, source="x.csv")
    assert result.rows.to_dicts() == [
        {
            "row_number": 2,
            "prefix": "93",
            "destination": "Afghanistan - Fixed",
            "price": Decimal("0.75"),
            "initial_seconds": 1,
            "increment_seconds": 1,
            "effective_at": None,
            "currency": None,
        }
    ]
    assert result.source_format == "csv"
    assert result.total_rows == 1
    assert result.rejects.height == 0
    assert result.notes == []


def test_schemas_exact_and_no_float(decks) -> None:
    result = normalize_voice_deck(deck(decks, GOOD, ["Bad", "x", "1", "1/1"]), source="x.csv")
    assert result.rows.schema == pl.Schema(VOICE_RATE_SCHEMA)
    assert result.rejects.schema == pl.Schema(KEYED_REJECT_SCHEMA)
    assert not any(dtype.is_float() for dtype in result.rows.schema.dtypes())


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (["Ireland", "353", "", "1/1"], "price: empty"),
        (["Ireland", "353", "-0.1", "1/1"], "price: negative '-0.1'"),
        (["Ireland", "353", "abc", "1/1"], "price: not a number 'abc'"),
        (["Ireland", "353", "1.2.3", "1/1"], "price: not a number '1.2.3'"),
        (["Ireland", "353", "$0.10", "1/1"], "price: not a number '$0.10'"),
        (["Ireland", "353", "1e-2", "1/1"], "price: scientific notation not accepted '1e-2'"),
        (
            ["Ireland", "353", "0.123456789", "1/1"],
            "price: more than 8 decimal places; refusing to round '0.123456789'",
        ),
        (
            ["Ireland", "353", "12345678901", "1/1"],
            "price: more than 10 digits before the point '12345678901'",
        ),
        (["Ireland", "", "0.1", "1/1"], "prefix: empty"),
        (["Ireland", "ABC", "0.1", "1/1"], "prefix: contains letters 'ABC'"),
        (["Ireland", "35a3", "0.1", "1/1"], "prefix: contains letters '35a3'"),
        (["Ireland", "353.5", "0.1", "1/1"], "prefix: not digits '353.5'"),
        (["Ireland", "٣٥٣", "0.1", "1/1"], "prefix: not digits '٣٥٣'"),
        (["Ireland", "353", "٠.١", "1/1"], "price: not a number '٠.١'"),
        (
            ["Ireland", "1234567890123456", "0.1", "1/1"],
            "prefix: longer than 15 digits '1234567890123456'",
        ),
        (["", "353", "0.1", "1/1"], "destination: empty"),
        (["Ireland", "353", "0.1", ""], "increments: empty"),
        (["Ireland", "353", "0.1", "60"], "increments: expected 'a/b' seconds, got '60'"),
        (
            ["Ireland", "353", "0.1", "0/1"],
            "increments: intervals must be at least 1 second, got '0/1'",
        ),
        (
            ["Ireland", "353", "0.1", "60/0"],
            "increments: intervals must be at least 1 second, got '60/0'",
        ),
        (
            ["Ireland", "353", "0.1", "90000/1"],
            "increments: an interval longer than a day '90000/1'",
        ),
        (
            ["", "ABC", "", "x"],
            "destination: empty; prefix: contains letters 'ABC'; price: empty; "
            "increments: expected 'a/b' seconds, got 'x'",
        ),
    ],
)
def test_reject_reasons(decks, row: list[str], reason: str) -> None:
    result = normalize_voice_deck(deck(decks, GOOD, row), source="x.csv")
    assert reasons(result) == {3: reason}
    raw = json.loads(result.rejects["raw"][0])
    assert raw == {name: (cell or None) for name, cell in zip(HEADER, row, strict=True)}
    assert result.rejects["sheet"][0] is None
    assert result.rows["prefix"].to_list() == ["353"]
    assert result.total_rows == 2


def test_other_field_reasons(decks) -> None:
    header = ["Destination", "Prefix", "Price", "Interval", "Effective Date", "Currency"]
    result = normalize_voice_deck(
        deck(
            decks,
            ["A", "1", "0.1", "1/1", "2026-11-05", "usd"],
            ["B", "2", "0.1", "1/1", "2026-02-30", "USD"],
            ["C", "3", "0.1", "1/1", "soon", "USD"],
            ["D", "4", "0.1", "1/1", "2026-11-05", "US Dollar"],
            header=header,
        ),
        source="x.csv",
    )
    assert reasons(result) == {
        3: "effective date: not a valid date '2026-02-30'",
        4: "effective date: unrecognised date 'soon'",
        5: "currency: not a 3-letter code 'US Dollar'",
    }
    assert result.rows["currency"].to_list() == ["USD"]


def test_values_are_normalised(decks) -> None:
    rows = [
        ["  Ireland  -  Mobile ", " +353 89 ", " 0.1617 ", " 60 / 60 "],
        ["UK", "44-20", "0,1175", "60/1"],
        ["Zeros", "0044", "0.12345678000", "1/1"],
        ["Whole", "1", "7", "1/1"],
        ["Dot", "2", ".5", "1/1"],
    ]
    result = normalize_voice_deck(deck(decks, *rows), source="x.csv")
    assert result.rejects.height == 0
    assert result.rows.select("destination", "prefix", "price", "initial_seconds").rows() == [
        ("Ireland  -  Mobile", "35389", Decimal("0.1617"), 60),
        ("UK", "4420", Decimal("0.1175"), 60),
        ("Zeros", "0044", Decimal("0.12345678"), 1),
        ("Whole", "1", Decimal("7"), 1),
        ("Dot", "2", Decimal("0.5"), 1),
    ]


def test_a_prefix_range_is_refused_not_glued_into_one_prefix(decks) -> None:
    # rate notices write "49172-49174" for three prefixes: dropping the dash as a separator
    # made 4917249174, a plausible prefix that billed real numbers at the range's rate
    rows = [
        ["Germany Mobile", "49172-49174", "0.10", "1/1"],
        ["UK London", "44-20", "0.01", "1/1"],  # a dash that groups digits stays a separator
        ["Ireland Mobile", "353 - 89", "0.02", "1/1"],
        ["Germany Mobile", "+49 170 - 49 179", "0.10", "1/1"],
    ]
    result = normalize_voice_deck(deck(decks, *rows), source="x.csv")
    assert reasons(result) == {
        2: "prefix: a range, not a prefix (one row per prefix) '49172-49174'",
        5: "prefix: a range, not a prefix (one row per prefix) '+49 170 - 49 179'",
    }
    assert result.rows["prefix"].to_list() == ["4420", "35389"]


@pytest.mark.parametrize("space", list(WHITESPACE))
def test_every_whitespace_in_a_prefix_is_a_separator_as_in_numbers(decks, space) -> None:
    # one list with lookup, cost and the SQL macros (phone.WHITESPACE), never a regex's \s:
    # polars' leaves out U+001C-U+001F, so "44\x1c20" was refused as "not digits"
    rows = [
        ["UK London", f"44{space}20", "0.01", "1/1"],
        ["Germany Mobile", f"49172{space}-{space}49174", "0.10", "1/1"],
    ]
    # a CSV record is one line (a newline in a cell refuses the deck): that one in a sheet
    data = decks.xlsx({"Rates": [HEADER, *rows]}) if space == "\n" else deck(decks, *rows)
    result = normalize_voice_deck(data, source="x")
    assert result.rows["prefix"].to_list() == ["4420"]
    assert reasons(result) == {
        3: f"prefix: a range, not a prefix (one row per prefix) '49172{space}-{space}49174'"
    }


@pytest.mark.parametrize("mark", list(INVISIBLE))
def test_an_invisible_character_in_a_prefix_is_dropped_as_in_numbers(decks, mark) -> None:
    # a zero-width space, BOM or bidi mark copied from a spreadsheet along with the prefix
    # was refused ("prefix: not digits '\u200b353'", the mark invisible in the reason)
    rows = [
        ["Ireland", f"{mark}353", "0.01", "1/1"],
        ["Ireland Mobile", f"353{mark}89", "0.02", "1/1"],
        ["UK", f"+{mark}44{mark}", "0.03", "1/1"],
        ["Germany Mobile", f"49172-{mark}49174", "0.10", "1/1"],
    ]
    result = normalize_voice_deck(deck(decks, *rows), source="x.csv")
    assert result.rows["prefix"].to_list() == ["353", "35389", "44"]
    assert reasons(result) == {
        5: f"prefix: a range, not a prefix (one row per prefix) '49172-{mark}49174'"
    }


def test_a_prefix_no_number_can_match_is_kept_and_noted(decks) -> None:
    rows = [["Zeros", "0044", "0.1", "1/1"], ["UK", "44", "0.1", "1/1"]]
    result = normalize_voice_deck(deck(decks, *rows), source="x.csv")
    assert result.rows["prefix"].to_list() == ["0044", "44"]
    assert (
        "1 prefix start with 00 (e.g. '0044'): numbers are matched without their leading 00, "
        "so none can match it (write '44' for '0044')"
    ) in result.notes


def test_first_and_sub_interval_columns(decks) -> None:
    header = ["Destination", "Prefix", "First Interval", "Sub Interval", "Rate"]
    result = normalize_voice_deck(
        deck(
            decks,
            ["A", "1", " 30 ", "6", "0.1"],
            ["B", "2", "30", "", "0.1"],
            ["C", "3", "", "", "0.1"],
            header=header,
        ),
        source="x.csv",
    )
    assert result.rows.select("initial_seconds", "increment_seconds").rows() == [(30, 6)]
    assert reasons(result) == {
        3: "increments: expected 'a/b' seconds, got '30/'",
        4: "increments: empty",
    }


def test_default_increments_and_header_currency(decks) -> None:
    header = ["Code", "Destination", "Cost / Min (USD)"]
    data = deck(decks, ["353", "Ireland", "0.1"], header=header)
    result = normalize_voice_deck(data, source="x.csv", default_increments="60/60")
    assert result.rows.select("initial_seconds", "increment_seconds", "currency").rows() == [
        (60, 60, "USD")
    ]
    assert result.notes == [
        "no increments column: used 60/60 for every row",
        "currency USD taken from the price column's header",
    ]


def test_bad_default_increments_is_a_config_error(decks) -> None:
    with pytest.raises(ConfigError, match="default increments must be 'a/b'"):
        normalize_voice_deck(deck(decks, GOOD), source="x.csv", default_increments="0/1")


def test_blank_rows_are_skipped_not_rejected(decks) -> None:
    data = deck(decks, GOOD, ["", "", "", ""], ["  ", " ", "", "1/1"], ["UK", "44", "0.2", "1/1"])
    result = normalize_voice_deck(data, source="x.csv")
    assert result.rows["row_number"].to_list() == [2, 5]
    assert result.rejects.height == 0
    assert result.total_rows == 2
    assert result.notes == ["skipped 2 blank rows"]


def test_identical_duplicates_keep_the_first(decks) -> None:
    data = deck(decks, GOOD, ["UK", "44", "0.2", "1/1"], GOOD, GOOD)
    result = normalize_voice_deck(data, source="x.csv")
    assert result.rows["row_number"].to_list() == [2, 3]
    assert reasons(result) == {4: "duplicate of row 2", 5: "duplicate of row 2"}


def test_conflicting_duplicates_are_all_rejected(decks) -> None:
    data = deck(
        decks,
        GOOD,
        ["UK", "44", "0.2", "1/1"],
        ["Ireland - Fixed", "353", "0.0190", "1/1"],
        ["UK", "44", "0.20", "1/1"],  # same value, other spelling: identical
    )
    result = normalize_voice_deck(data, source="x.csv")
    assert result.rows["row_number"].to_list() == [3]
    conflict = "conflicting duplicate prefix 353: rows 2, 4 differ in price"
    assert reasons(result) == {2: conflict, 4: conflict, 5: "duplicate of row 3"}


def test_same_prefix_on_other_dates_is_not_a_duplicate(decks) -> None:
    header = [*HEADER, "Effective Date"]
    data = deck(
        decks,
        [*GOOD, "2026-11-05"],
        ["Ireland - Fixed", "353", "0.0190", "1/1", "2026-12-01"],
        ["Ireland - Fixed", "353", "0.0200", "60/60", "2026-12-01"],
        header=header,
    )
    result = normalize_voice_deck(data, source="x.csv")
    assert result.rows["row_number"].to_list() == [2]
    conflict = (
        "conflicting duplicate prefix 353 effective 2026-12-01 00:00:00: rows 3, 4 differ in "
        "price, initial seconds, increment seconds"
    )
    assert reasons(result) == {3: conflict, 4: conflict}


def test_title_rows_semicolons_and_comma_decimals(decks) -> None:
    rows = [
        ["Rate deck for ACME"],
        [],
        ["Destination", "Dial Code", "Rate/min", "Increments"],
        ["Ireland", "353", "0,0185", "1/1"],
        ["Ireland - Mobile", "35389", "0,1617", "60/60"],
    ]
    data = decks.csv(rows, delimiter=";", line_end="\r\n")
    result = normalize_voice_deck(data, source="x.csv")
    assert result.rows.select("row_number", "price").rows() == [
        (4, Decimal("0.0185")),
        (5, Decimal("0.1617")),
    ]


def test_tab_bom_crlf_cp1252(decks) -> None:
    rows = [HEADER, ["Curaçao", "5999", "0.3", "1/1"], ["Réunion", "262", "0.2", "1/1"]]
    tab = normalize_voice_deck(decks.csv(rows, delimiter="\t"), source="x")
    bom = normalize_voice_deck(b"\xef\xbb\xbf" + decks.csv(rows, line_end="\r\n"), source="x")
    latin = normalize_voice_deck(decks.csv(rows, encoding="cp1252"), source="x")
    utf16 = normalize_voice_deck(
        decks.csv(rows, delimiter="\t", line_end="\r\n", encoding="utf-16"), source="x"
    )
    mac = normalize_voice_deck(decks.csv(rows, line_end="\r"), source="x")
    for other in (bom, latin, utf16, mac):
        assert tab.rows.equals(other.rows)
    assert tab.rows["destination"].to_list() == ["Curaçao", "Réunion"]
    assert latin.notes == ["decoded as cp1252 (not valid UTF-8)"]


def test_quoted_names_with_commas(decks) -> None:
    data = deck(decks, ["ANGUILLA, MOBILE", "1264772", "0.2", "1/1"])
    result = normalize_voice_deck(data, source="x")
    assert result.rows["destination"].to_list() == ["ANGUILLA, MOBILE"]


def test_ragged_rows_are_rejects_not_padded_or_truncated(decks) -> None:
    data = b"Destination,Prefix,Price\nIreland,353\nUK,44,0.1,extra\nFR,33,0.2\n"
    result = normalize_voice_deck(data, source="x")
    assert reasons(result) == {
        2: "row: 2 fields but the header has 3 (missing Price)",
        3: "row: 4 fields but the header has 3 (extra 'extra')",
    }
    assert result.rows["prefix"].to_list() == ["33"]


def test_scheduled_changes_note(decks) -> None:
    header = [*HEADER, "Effective Date"]
    data = deck(
        decks, [*GOOD, "2026-11-05"], ["UK", "44", "0.2", "1/1", "2026-12-01"], header=header
    )
    result = normalize_voice_deck(data, source="x", fetched_at=datetime(2026, 11, 20, tzinfo=UTC))
    assert "1 row takes effect after the fetch (scheduled changes)" in result.notes


def test_header_only_deck_has_no_valid_rows(decks) -> None:
    with pytest.raises(NoValidRowsError, match=r"^x.csv: no data rows under the header$"):
        normalize_voice_deck(deck(decks), source="x.csv")


def test_all_rows_rejected_raises_with_the_result(decks) -> None:
    data = deck(decks, ["A", "1", "", "1/1"], ["B", "x", "", "1/1"])
    with pytest.raises(NoValidRowsError) as caught:
        normalize_voice_deck(data, source="x.csv")
    assert str(caught.value) == (
        "x.csv: no valid rows: all 2 rows rejected (price: empty (2), prefix: contains letters (1))"
    )
    assert caught.value.result is not None
    assert caught.value.result.rejects.height == 2


def test_check_rejects_threshold(decks) -> None:
    data = deck(
        decks, GOOD, ["UK", "44", "", "1/1"], ["FR", "33", "x", "1/1"], ["DE", "49", "0.1", "1/1"]
    )
    result = normalize_voice_deck(data, source="x.csv")
    assert result.reject_fraction == 0.5
    check_rejects(result, 0.5, "x.csv")
    with pytest.raises(TooManyRejectsError) as caught:
        check_rejects(result, 0.1, "x.csv")
    assert str(caught.value) == (
        "x.csv: 2 of 4 rows rejected (50.00%, limit 10.00%): "
        "price: empty (1), price: not a number (1)"
    )
    assert caught.value.exit_code == 2


def test_too_many_rejects_counts_reasons_by_kind(decks) -> None:
    """Values left out; a '; ' inside one reason does not make it two kinds, and every
    identical repeat is one kind, listed apart from the counted rejects."""
    data = deck(
        decks,
        GOOD,
        ["UK", "44", "0.1234567891", "1/1"],
        ["FR", "33", "0.1234567892", "1/1"],
        ["DE", "4x", "", "1/1"],
        ["ES", "34", "0.1", "1/1"],
        ["ES", "34", "0.1", "1/1"],
    )
    result = normalize_voice_deck(data, source="x.csv")
    with pytest.raises(TooManyRejectsError) as caught:
        check_rejects(result, 0.1, "x.csv", listed_in="staging/x.rejects.parquet")
    assert str(caught.value) == (
        "x.csv: 3 of 5 rows rejected (60.00%, limit 10.00%; 1 identical repeats not counted): "
        "price: more than 8 decimal places; refusing to round (2), "
        "prefix: contains letters (1), price: empty (1); every reject in staging/x.rejects.parquet"
    )


def test_a_multiline_field_is_refused_so_row_numbers_are_always_file_lines() -> None:
    data = b'Destination,Prefix,Price\n"Ireland\nFixed",353,0.1\nUK,44,x\n'
    with pytest.raises(MalformedCsvError, match=r"^x: line 2: a quoted field runs over line"):
        normalize_voice_deck(data, source="x")


def test_utf8_head_with_cp1252_tail_falls_back_to_the_full_decode() -> None:
    """The fast path decodes only the head: a non-UTF-8 byte further down must still be read
    right (as cp1252), not dropped or mangled."""
    head = "Destination,Prefix,Price,Billing Increments\n" + "".join(
        f"Land {i},{1000 + i},0.0{i % 10}5,1/1\n" for i in range(200)
    )
    tail = "Curaçao - Mobile,5999,0.2500,60/60\n".encode("cp1252")
    result = normalize_voice_deck(head.encode("utf-8") + tail, source="mixed.csv")
    assert result.rejects.height == 0
    assert result.rows.height == 201
    last = result.rows.filter(pl.col("prefix") == "5999").row(0, named=True)
    assert last["destination"] == "Curaçao - Mobile"
    assert str(last["price"]) == "0.25000000"
    assert (last["initial_seconds"], last["increment_seconds"]) == (60, 60)
    assert any("cp1252" in note for note in result.notes)
