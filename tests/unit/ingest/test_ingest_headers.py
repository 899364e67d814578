"""Header detection and column mapping."""

from __future__ import annotations

import pytest

from pipeline.ingest.errors import NoHeaderError
from pipeline.ingest.headers import find_header, header_key, map_header, positional_mapping
from pipeline.ingest.voice import normalize_voice_deck


@pytest.mark.parametrize(
    ("cell", "key", "currency"),
    [
        ("Billing Increments", "billingincrements", None),
        ("  BILLING_increments ", "billingincrements", None),
        ("Cost / Min (USD)", "costmin", "USD"),
        ("Rate (EUR/min)", "ratemin", "EUR"),
        ("Price per minute, €", "priceperminute", "EUR"),
        ("Dial-Code", "dialcode", None),
    ],
)
def test_header_key(cell: str, key: str, currency: str | None) -> None:
    assert header_key(cell) == (key, currency)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            ["Destination", "Prefix", "Price", "Billing Increments"],
            {"destination": 0, "prefix": 1, "price": 2, "increments": 3},
        ),
        (
            ["Country", "Dial Code", "Rate/min", "Interval", "Valid From", "currency"],
            {
                "destination": 0,
                "prefix": 1,
                "price": 2,
                "increments": 3,
                "effective": 4,
                "currency": 5,
            },
        ),
        (
            ["Code", "Description", "Cost / Min (USD)", "Initial Increment", "Increment"],
            {"prefix": 0, "destination": 1, "price": 2, "first_interval": 3, "sub_interval": 4},
        ),
        (
            ["NAME", "dialcode", "Price per minute", "Min Duration", "Next", "Effective"],
            {
                "destination": 0,
                "prefix": 1,
                "price": 2,
                "first_interval": 3,
                "sub_interval": 4,
                "effective": 5,
            },
        ),
        # "Destination" beats "Country" wherever it stands
        (
            ["Country", "Destination", "Prefix", "Rate", "Start Date"],
            {"destination": 1, "prefix": 2, "price": 3, "effective": 4},
        ),
    ],
)
def test_map_header_spellings(header: list[str], expected: dict[str, int]) -> None:
    mapping = map_header(header)
    assert mapping is not None
    assert mapping.columns == expected


def test_price_header_currency_and_ignored_columns() -> None:
    mapping = map_header(["Code", "Destination", "Cost / Min (USD)", "Grace Time", ""])
    assert mapping is not None
    assert mapping.header_currency == "USD"
    assert mapping.ignored == ["Grace Time", "column_5"]


def test_a_row_without_price_is_not_a_header() -> None:
    assert map_header(["Destination", "Prefix", "Status"]) is None


def test_lone_first_interval_is_not_used() -> None:
    mapping = map_header(["Destination", "Prefix", "Rate", "First Interval"])
    assert mapping is not None
    assert not mapping.has_increments()
    assert mapping.notes == ["only a first interval column, no pair: increments not read"]


def test_header_found_under_title_rows() -> None:
    rows = [
        ["Rate deck for ACME"],
        [],
        ["Valid from 2026-11-05", ""],
        ["Destination", "Prefix", "Price"],
        ["Ireland", "353", "0.1"],
    ]
    found = find_header(rows)
    assert found is not None and found[0] == 3


def test_positional_only_when_clearly_destination_prefix_price() -> None:
    assert positional_mapping([["Ireland", "353", "0.0185"], ["Ireland - Mobile", "35389", "0,16"]])
    assert positional_mapping([["Ireland", "+353", "0.0185", "60/60"]]).columns == {
        "destination": 0,
        "prefix": 1,
        "price": 2,
        "increments": 3,
    }
    # world prefix table layout: prefix first, no price
    assert positional_mapping([["93", "Afghanistan", "Fixed Line", ""]]) is None
    assert positional_mapping([["Ireland", "353", "Fixed"]]) is None


def test_headerless_deck_read_by_position() -> None:
    result = normalize_voice_deck(
        b"Ireland,353,0.0185\nIreland - Mobile,35389,0.1617\n", source="x"
    )
    assert result.rows["prefix"].to_list() == ["353", "35389"]
    assert result.rows["row_number"].to_list() == [1, 2]
    assert "no header row: columns read by position (destination, prefix, price)" in result.notes


def test_no_header_error_names_source_and_expected_columns() -> None:
    with pytest.raises(NoHeaderError) as caught:
        normalize_voice_deck(b"a,b,c\n1,2,3\nx,y,z\n", source="data/raw/deck.csv")
    assert str(caught.value) == (
        "data/raw/deck.csv: no header row found in the first 50 rows; looked for "
        "destination (Destination/Country/Name/Description), prefix (Prefix/Code/Dial Code), "
        "price (Price/Rate/Cost/Price per minute)"
    )
