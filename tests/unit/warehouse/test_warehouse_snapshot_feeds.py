"""load_snapshot: every feed (voice, SMS) gets the same replay, time-order, error and reject
rules from its SnapshotSpec; each case runs once per feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest
from support.bodies import ingest_result, sms_rates_json

from pipeline.ingest.frames import REJECT_SCHEMA, SMS_RATE_SCHEMA
from pipeline.ingest.sms import normalize_sms_rates
from pipeline.warehouse import snapshot
from pipeline.warehouse.errors import SnapshotLoadError
from pipeline.warehouse.sms import SMS_SNAPSHOT
from pipeline.warehouse.snapshot import IncomingSnapshot, load_snapshot, previous_row_count
from pipeline.warehouse.voice import VOICE_SNAPSHOT

T0 = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SOURCE = {"voice": "current", "sms": "acme:1"}


def voice_rows(make_deck, prices: list[str]) -> pl.DataFrame:
    return make_deck([(str(44 + i), price) for i, price in enumerate(prices)])


def sms_rows(prices: list[str]) -> pl.DataFrame:
    body = sms_rates_json({(262, i + 1): Decimal(p) for i, p in enumerate(prices)})
    return normalize_sms_rates(body, source="x.json").rows


@pytest.fixture(params=[VOICE_SNAPSHOT, SMS_SNAPSHOT], ids=lambda spec: spec.kind)
def feed_load(request, con, make_deck):
    """feed_load(prices, fetched_at, rejects=None): one snapshot of the feed under test."""
    spec = request.param

    def _load(prices: list[str], fetched_at: datetime, rejects: pl.DataFrame | None = None):
        rows = voice_rows(make_deck, prices) if spec.kind == "voice" else sms_rows(prices)
        incoming = IncomingSnapshot(
            source=SOURCE[spec.kind],
            fetched_at=fetched_at,
            content_sha256=f"sha-{fetched_at.isoformat()}-{prices}",
            raw_path=f"raw/{spec.kind}/x/{fetched_at:%Y%m%dT%H%M%S}",
            result=ingest_result(rows, rejects),
            account_currency="USD",
        )
        return load_snapshot(con, spec, incoming)

    _load.spec = spec
    return _load


SNAPSHOT_ROWS = {
    "voice": "SELECT snapshot_id, row_count FROM voice_snapshot",
    "sms": "SELECT snapshot_id, row_count FROM sms_snapshot",
}


def snapshot_rows(con, spec) -> list[tuple]:
    return con.execute(SNAPSHOT_ROWS[spec.kind]).fetchall()


def test_a_replayed_file_returns_the_stored_snapshot(con, feed_load):
    first = feed_load(["0.1", "0.2"], T0)
    again = feed_load(["0.1", "0.2"], T0)
    assert again.replayed and not first.replayed
    assert (again.snapshot_id, again.row_count, again.opened) == (first.snapshot_id, 2, 2)
    assert snapshot_rows(con, feed_load.spec) == [(first.snapshot_id, 2)]


def test_an_older_snapshot_than_one_that_changed_nothing_is_refused(con, feed_load):
    feed_load(["0.1"], T0)
    feed_load(["0.1"], T0 + 2 * DAY)  # unchanged: it leaves no trace in the history table
    with pytest.raises(SnapshotLoadError, match="older than a snapshot already loaded"):
        feed_load(["0.3"], T0 + DAY)
    assert len(snapshot_rows(con, feed_load.spec)) == 2


def test_a_duckdb_failure_is_one_line_and_rolls_back(con, feed_load, monkeypatch):
    feed_load(["0.1"], T0)
    before = snapshot_rows(con, feed_load.spec)

    def broken_insert(con, spec, params):
        con.execute("INSERT INTO no_such_table VALUES (1)")

    monkeypatch.setattr(snapshot, "_insert_snapshot", broken_insert)
    with pytest.raises(SnapshotLoadError) as caught:
        feed_load(["0.2"], T0 + DAY)
    message = str(caught.value)
    assert message.endswith("nothing was loaded") and "no_such_table" in message
    assert "\n" not in message
    assert message.startswith(f"{feed_load.spec.noun} {SOURCE[feed_load.spec.kind]} (raw/")
    assert snapshot_rows(con, feed_load.spec) == before


def test_rejects_are_recorded_under_the_feed_kind(con, feed_load):
    rejects = pl.DataFrame(
        {"row_number": [3], "sheet": [None], "raw": ['{"a": "b"}'], "reason": ["price: empty"]},
        schema=REJECT_SCHEMA,
    )
    loaded = feed_load(["0.1"], T0, rejects)
    assert loaded.reject_count == 1
    assert con.execute(
        "SELECT kind, source, snapshot_id, reason FROM ingest_reject"
    ).fetchall() == [
        (feed_load.spec.kind, SOURCE[feed_load.spec.kind], loaded.snapshot_id, "price: empty")
    ]


def test_previous_row_count_reads_the_feeds_own_snapshots(con, feed_load):
    spec = feed_load.spec
    assert previous_row_count(con, spec, SOURCE[spec.kind]) is None
    feed_load(["0.1", "0.2", "0.3"], T0)
    assert previous_row_count(con, spec, SOURCE[spec.kind]) == 3
    other = SMS_SNAPSHOT if spec is VOICE_SNAPSHOT else VOICE_SNAPSHOT
    assert previous_row_count(con, other, SOURCE[other.kind]) is None


def test_sms_rows_are_named_from_the_reference(con):
    rows = sms_rows(["0.05"]).vstack(
        pl.DataFrame(
            {"row_number": [2], "mcc": [998], "mnc": [42], "rate": [Decimal("0.07")]},
            schema=SMS_RATE_SCHEMA,
        )
    )
    incoming = IncomingSnapshot("acme:1", T0, "sha", "raw/sms/x.json", ingest_result(rows))
    loaded = load_snapshot(con, SMS_SNAPSHOT, incoming)
    assert (loaded.row_count, loaded.unknown_count) == (2, 1)
    assert con.execute("SELECT unknown_count FROM sms_snapshot").fetchall() == [(1,)]


HISTORY_ROWS = {
    "voice": "SELECT * FROM voice_rate ORDER BY ALL",
    "sms": "SELECT * FROM sms_rate ORDER BY ALL",
}


def test_other_content_at_a_fetch_time_already_loaded_is_refused(con, feed_load):
    """As for the balance: it would make a zero-length interval and a phantom change."""
    spec = feed_load.spec
    first = feed_load(["0.1", "0.2"], T0)
    history = con.execute(HISTORY_ROWS[spec.kind]).fetchall()
    with pytest.raises(SnapshotLoadError) as caught:
        feed_load(["0.1", "0.3"], T0)
    sha16 = first.content_sha256[:16]  # the test's shas share their first 16 characters
    assert str(caught.value) == (
        f"{spec.noun} {SOURCE[spec.kind]} at {T0.isoformat()} is already loaded from "
        f"different content ({sha16}, not {sha16}); nothing loaded"
    )
    assert snapshot_rows(con, spec) == [(first.snapshot_id, 2)]
    assert con.execute(HISTORY_ROWS[spec.kind]).fetchall() == history
