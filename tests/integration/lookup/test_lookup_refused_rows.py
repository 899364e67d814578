"""`ratedeck lookup` and `ratedeck diff` after a download that refused rows of the real SDF
deck (tests/fixtures/realdata, Apache-2.0): a refused row keeps the price in force, and a
prefix refused before it ever had a price is named in lookup's notes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipeline.ingest.voice import normalize_voice_deck
from pipeline.warehouse.migrate import apply_migrations
from pipeline.warehouse.voice import load_voice_snapshot

T0 = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
SDF_DECK = Path(__file__).parents[2] / "fixtures" / "realdata" / "decal_sdf-outbound-rates.csv"
IRELAND_MOBILE = b"IRELAND - MOBILE - OTHER CARRIERS,35389,30,6,0.2112,"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SDF deck loaded, then downloaded again with 'n/a' for Ireland Mobile (35389)."""
    path = tmp_path_factory.mktemp("refused") / "data"
    path.mkdir()
    data = SDF_DECK.read_bytes()
    bad = data.replace(IRELAND_MOBILE, IRELAND_MOBILE.replace(b"0.2112", b"n/a"))
    assert bad != data
    with duckdb.connect(str(path / "warehouse.duckdb")) as con:
        apply_migrations(con)
        for day, body in enumerate((data, bad)):
            fetched_at = T0 + timedelta(days=day)
            load_voice_snapshot(
                con,
                tech_prefix="current",
                default_currency="USD",
                fetched_at=fetched_at,
                content_sha256=f"sha-{day}",
                raw_path=f"raw/voice/current/day{day}.csv",
                result=normalize_voice_deck(body, source=f"day{day}.csv"),
            )
    return path


def test_lookup_prices_a_refused_row_at_its_previous_price(ratedeck):
    """Was: priced on 353 IRELAND - PROPER at 0.0142, 93% below the mobile rate, silently."""
    code, out, err = ratedeck(
        "lookup", "+353 89 123 4567", "--tech-prefix", "current", "--at", "2026-11-03", "--json"
    )
    document = json.loads(out)

    assert (code, err) == (0, "")
    [result] = document["results"]
    assert (result["matched_prefix"], result["price"]) == ("35389", "0.21120000")
    assert result["valid_to"] is None
    assert document["notes"] == [
        "current: prefix 35389 was refused at the download of 2026-11-02 06:00 UTC "
        "(price: not a number 'n/a'); its previous price stands"
    ]


def test_lookup_names_a_longer_prefix_refused_before_it_had_a_price(ratedeck):
    """SDF's Kosovo IPKO rows (38643, 386432...) have empty prices from the first download."""
    code, out, err = ratedeck(
        "lookup", "+386 43 2123 456", "--tech-prefix", "current", "--at", "2026-11-03"
    )

    assert (code, err) == (0, "")
    assert "SLOVENIA - PROPER" in out
    assert (
        "current: prefix 386432 was refused at the download of 2026-11-02 06:00 UTC "
        "(price: empty); priced on 386"
    ) in out.splitlines()


def test_lookup_of_a_number_no_refused_prefix_begins_has_no_note(ratedeck):
    code, out, _ = ratedeck("lookup", "+49 30 1234567", "--tech-prefix", "current", "--json")
    assert code == 0 and json.loads(out)["notes"] == []


def test_diff_shows_no_removal(ratedeck):
    code, out, err = ratedeck("diff", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["changes"] == []
