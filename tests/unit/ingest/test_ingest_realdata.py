"""Real public decks (see tests/fixtures/realdata/NOTICE.md and ../shared/realdata/SOURCES.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import polars as pl
import pytest

from pipeline.ingest.errors import NoHeaderError
from pipeline.ingest.voice import check_rejects, normalize_voice_deck


def test_sdf_deck(sdf_deck: bytes) -> None:
    """Apache-2.0 SDF deck: 27,523 rows, 9 with an empty Rate; First/Sub Interval columns."""
    result = normalize_voice_deck(sdf_deck, source="sdf-outbound-rates.csv")
    rows = result.rows
    assert result.total_rows == 27_523
    assert rows.height == 27_514
    assert result.rejects.height == 9
    assert set(result.rejects["reason"]) == {"price: empty"}
    assert result.rejects["row_number"].to_list()[:2] == [583, 7151]
    assert result.notes == ["ignored columns: Status, End Date"]

    increments = rows.group_by("initial_seconds", "increment_seconds").len().sort("len")
    assert increments.rows() == [(6, 6, 8), (60, 60, 4092), (30, 6, 23414)]
    assert rows["prefix"].n_unique() == rows.height
    assert rows.filter(pl.col("destination").str.contains(",")).height == 5126
    assert rows.filter(pl.col("destination") == "ANTIGUA  DIGICEL MOBILE").height > 0
    assert rows["price"].min() == Decimal("0") and rows["price"].max() == Decimal("7.8705")

    # "Start Date" is read as the effective date; it comes with and without microseconds
    first = rows.row(0, named=True)
    assert first == {
        "row_number": 2,
        "prefix": "9375",
        "destination": "AFGHANISTAN - CDMA",
        "price": Decimal("0.2875"),
        "initial_seconds": 30,
        "increment_seconds": 6,
        "effective_at": datetime(2010, 6, 26, 6, 55, tzinfo=UTC),
        "currency": None,
    }
    awcc = rows.filter(pl.col("prefix") == "9370").row(0, named=True)
    assert awcc["effective_at"] == datetime(2010, 7, 2, 11, 6, 58, 484053, tzinfo=UTC)
    assert rows["effective_at"].null_count() == 0
    check_rejects(result, 0.001, "sdf")


@pytest.mark.realdata
def test_massimo_zaniboni_deck(shared_realdata) -> None:
    """GPL-3.0 (not copied): all-quoted, comma decimals, mojibake, no increments column."""
    data = shared_realdata("massimo-zaniboni_international_call_rates_example.csv")
    result = normalize_voice_deck(data, source="asterisell.csv", default_increments="60/60")
    assert result.rows.height == 11_894
    assert result.rejects.height == 0
    assert result.notes == ["no increments column: used 60/60 for every row"]
    afghanistan = result.rows.filter(pl.col("prefix") == "93").row(0, named=True)
    assert afghanistan["price"] == Decimal("0.1175")
    assert (afghanistan["initial_seconds"], afghanistan["increment_seconds"]) == (60, 60)
    assert result.rows["price"].min() == Decimal("0.0121")
    assert result.rows["price"].max() == Decimal("1.9989")
    assert "Brazil - S¿Paulo" in result.rows["destination"].to_list()


@pytest.mark.realdata
def test_world_prefix_table_has_no_header_and_no_price(shared_realdata) -> None:
    data = shared_realdata("massimo-zaniboni_world_prefix_table.csv")
    with pytest.raises(NoHeaderError) as caught:
        normalize_voice_deck(data, source="world_prefix_table.csv")
    assert str(caught.value) == (
        "world_prefix_table.csv: no header row found in the first 50 rows; looked for "
        "destination (Destination/Country/Name/Description), prefix (Prefix/Code/Dial Code), "
        "price (Price/Rate/Cost/Price per minute)"
    )
