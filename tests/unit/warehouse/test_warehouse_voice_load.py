"""load_voice_snapshot: one transaction, replay is a no-op, rejects, small reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest
from support.bodies import ingest_result

from pipeline.ingest.frames import REJECT_SCHEMA
from pipeline.warehouse import snapshot, voice
from pipeline.warehouse.errors import SnapshotLoadError
from pipeline.warehouse.snapshot import previous_row_count
from pipeline.warehouse.voice import VOICE_SNAPSHOT, deck_at

T0 = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
DAY = timedelta(days=1)
TABLE_QUERIES = (
    "SELECT * FROM voice_snapshot",
    "SELECT * FROM voice_rate",
    "SELECT * FROM ingest_reject",
)


def everything(con) -> dict[str, list[tuple]]:
    return {q: sorted(con.execute(q).fetchall(), key=repr) for q in TABLE_QUERIES}


def rejects(*rows: tuple[int, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"row_number": n, "sheet": None, "raw": json.dumps({"Prefix": "x"}), "reason": why}
            for n, why in rows
        ],
        schema=REJECT_SCHEMA,
    )


def test_snapshot_row_records_the_load(con, load):
    result = load([("44", "0.1"), ("49", "0.2")], T0, rejects=rejects((3, "price: not a number")))

    row = con.execute(
        "SELECT snapshot_id, tech_prefix, fetched_at, content_sha256, source_format, row_count, "
        "reject_count, rates_opened, rates_closed, has_effective_dates FROM voice_snapshot"
    ).fetchall()
    assert row == [
        (result.snapshot_id, "current", T0, result.content_sha256, "csv", 2, 1, 2, 0, False)
    ]
    assert result.replayed is False
    assert con.execute(
        "SELECT kind, source, snapshot_id, row_number, reason FROM ingest_reject"
    ).fetchall() == [("voice", "current", result.snapshot_id, 3, "price: not a number")]


def test_replaying_the_same_raw_file_changes_nothing(con, load):
    first = load([("44", "0.1")], T0, sha="abc", rejects=rejects((2, "bad")))
    load([("44", "0.2")], T0 + DAY, sha="def")
    before = everything(con)

    again = load([("44", "0.1")], T0, sha="abc", rejects=rejects((2, "bad")))

    assert again.replayed is True
    assert again.snapshot_id == first.snapshot_id
    assert (again.row_count, again.reject_count, again.opened) == (1, 1, 1)
    assert everything(con) == before


def test_same_time_other_content_is_refused(con, load):
    """Was a second snapshot at the same time: a zero-length interval, a phantom change."""
    load([("44", "0.1")], T0, sha="abc")
    before = everything(con)
    with pytest.raises(SnapshotLoadError, match=r"already loaded from different content \(abc"):
        load([("44", "0.2")], T0, sha="other")
    assert everything(con) == before


def test_a_failing_row_rolls_back_everything(con, load, make_deck):
    load([("44", "0.1"), ("49", "0.2")], T0)
    before = everything(con)
    broken = make_deck([("44", "0.15"), ("49", "0.2")]).with_columns(
        destination=pl.when(pl.col("prefix") == "44").then(None).otherwise(pl.col("destination"))
    )

    with pytest.raises(SnapshotLoadError, match="nothing was loaded"):
        load(broken, T0 + DAY, rejects=rejects((3, "bad")))

    assert everything(con) == before
    assert load([("44", "0.15"), ("49", "0.2")], T0 + DAY).closed == 1  # connection still fine


def test_a_failure_after_the_snapshot_insert_rolls_back_everything(con, load, monkeypatch):
    load([("44", "0.1")], T0)
    before = everything(con)

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(snapshot, "insert_rejects", explode)
    with pytest.raises(RuntimeError, match="disk on fire"):
        load([("44", "0.2"), ("49", "0.3")], T0 + DAY, rejects=rejects((3, "bad")))

    assert everything(con) == before
    monkeypatch.undo()
    assert load([("44", "0.2")], T0 + DAY).closed == 1  # and the connection still works


def test_snapshot_older_than_the_latest_is_refused(load):
    load([("44", "0.1")], T0 + DAY)
    load([("44", "0.1")], T0 + 2 * DAY)  # unchanged: leaves no trace in voice_rate
    with pytest.raises(SnapshotLoadError, match="older than a snapshot already loaded"):
        load([("44", "0.2")], T0 + DAY + timedelta(hours=1))


def test_previous_row_count(con, load):
    assert previous_row_count(con, VOICE_SNAPSHOT, "current") is None
    load([("44", "0.1"), ("49", "0.2")], T0)
    load([("44", "0.1")], T0 + DAY)
    assert previous_row_count(con, VOICE_SNAPSHOT, "current") == 1
    assert previous_row_count(con, VOICE_SNAPSHOT, "021001") is None


def test_previous_row_count_on_an_empty_database():
    import duckdb

    assert previous_row_count(duckdb.connect(), VOICE_SNAPSHOT, "current") is None


def test_deck_at(con, load):
    load([("44", "0.1", "UK"), ("49", "0.2", "Germany")], T0)
    load([("44", "0.12", "UK")], T0 + DAY)

    before = deck_at(con, "current", T0 + timedelta(hours=1))
    after = deck_at(con, "current", T0 + DAY)

    assert before.select("prefix", "destination", "price").rows() == [
        ("44", "UK", Decimal("0.1")),
        ("49", "Germany", Decimal("0.2")),
    ]
    assert after.select("prefix", "price").rows() == [("44", Decimal("0.12"))]
    assert after.schema["price"] == pl.Decimal(18, 8)
    assert deck_at(con, "current", T0 - DAY).height == 0


def test_naive_fetch_time_is_taken_as_utc(con, load):
    load([("44", "0.1")], datetime(2026, 11, 1, 6, 0))
    assert con.execute("SELECT fetched_at FROM voice_snapshot").fetchall() == [(T0,)]


def load_with_currency(con, deck, fetched_at, currency):
    return voice.load_voice_snapshot(
        con,
        tech_prefix="current",
        fetched_at=fetched_at,
        content_sha256=f"sha-{fetched_at.isoformat()}",
        raw_path="raw/voice/current/x.csv",
        result=ingest_result(deck),
        default_currency=currency,
    )


def test_rows_without_a_currency_get_the_accounts(con, make_deck):
    deck = make_deck([("44", "0.1"), ("49", "0.2")], currency=None)
    named = make_deck([("33", "0.3")], currency="EUR")

    load_with_currency(con, pl.concat([deck, named]), T0, "USD")

    stored = con.execute("SELECT prefix, currency FROM voice_rate ORDER BY prefix").fetchall()
    assert stored == [("33", "EUR"), ("44", "USD"), ("49", "USD")]


def test_versions_stored_without_a_currency_are_filled_not_re_versioned(con, load, make_deck):
    deck = make_deck([("44", "0.1"), ("49", "0.2")], currency=None)
    load(deck, T0)  # as loaded before the loader filled in the currency
    load(make_deck([("44", "0.1"), ("49", "0.3")], currency=None), T0 + DAY)

    result = load_with_currency(
        con, make_deck([("44", "0.1"), ("49", "0.3")], currency=None), T0 + 2 * DAY, "USD"
    )

    assert (result.opened, result.closed, result.unchanged) == (0, 0, 2)
    stored = con.execute(
        "SELECT prefix, price, currency, valid_from FROM voice_rate ORDER BY prefix, valid_from"
    ).fetchall()
    assert stored == [
        ("44", Decimal("0.1"), "USD", T0),
        ("49", Decimal("0.2"), "USD", T0),
        ("49", Decimal("0.3"), "USD", T0 + DAY),
    ]
