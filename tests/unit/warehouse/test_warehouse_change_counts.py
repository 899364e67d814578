"""snapshot_change_counts: what a snapshot brought, as the change view counts it; and
brought_no_changes, which spares that count where the view can hold none."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from pipeline.ingest.voice import normalize_voice_deck
from pipeline.warehouse.migrate import apply_migrations
from pipeline.warehouse.snapshot import brought_no_changes, snapshot_change_counts
from pipeline.warehouse.voice import VOICE_SNAPSHOT, load_voice_snapshot

HEADER = "Destination,Prefix,Price,Billing Increments\n"


def load(con, day: int, body: str, sha: str, tech_prefix: str = "current"):
    fetched_at = datetime(2026, 11, day, 6, tzinfo=UTC)
    result = normalize_voice_deck((HEADER + body).encode(), source="d.csv", fetched_at=fetched_at)
    return load_voice_snapshot(
        con,
        tech_prefix=tech_prefix,
        fetched_at=fetched_at,
        content_sha256=sha * 64,
        raw_path=f"raw/voice/current/{day}.csv",
        result=result,
    )


def test_counts_by_type_for_one_snapshot_and_none_for_the_baseline(tmp_path):
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    apply_migrations(con)
    first = load(
        con, 1, "Ireland,353,0.0200,1/1\nIreland Mobile,35389,0.1617,1/1\nUK,44,0.01,1/1\n", "a"
    )
    second = load(con, 2, "Ireland,353,0.0250,1/1\nUK,44,0.009,1/1\nFrance,33,0.02,1/1\n", "b")
    assert snapshot_change_counts(con, VOICE_SNAPSHOT, "current", first.snapshot_id) == ()
    assert snapshot_change_counts(con, VOICE_SNAPSHOT, "current", second.snapshot_id) == (
        ("decrease", 1),
        ("increase", 1),
        ("new", 1),
        ("removed", 1),
    )
    assert snapshot_change_counts(con, VOICE_SNAPSHOT, "021001", second.snapshot_id) == ()


DECK = "Ireland,353,0.0200,1/1\nIreland Mobile,35389,0.1617,1/1\nUK,44,0.01,1/1\n"


def test_no_changes_is_said_only_where_the_change_view_has_none(tmp_path):
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    apply_migrations(con)
    loads = [
        load(con, 1, DECK, "a"),  # baseline
        load(con, 2, DECK, "b"),  # unchanged: touches no version
        load(con, 3, DECK.replace("0.0200", "0.0300"), "c"),  # a price rises
        load(con, 4, "Ireland,353,0.0300,1/1\nUK,44,0.01,1/1\n", "d"),  # a prefix goes
        load(con, 5, DECK + "France,33,0.02,1/1\n", "e"),  # one comes back, one is new, one falls
        load(con, 5, DECK, "f", tech_prefix="021001"),  # another source's baseline
    ]
    said = [brought_no_changes(con, VOICE_SNAPSHOT, loaded) for loaded in loads]
    counts = [snapshot_change_counts(con, VOICE_SNAPSHOT, x.source, x.snapshot_id) for x in loads]
    assert said == [True, True, False, False, False, True]
    assert counts == [
        (),
        (),
        (("increase", 1),),
        (("removed", 1),),
        (("decrease", 1), ("new", 2)),
        (),
    ]
