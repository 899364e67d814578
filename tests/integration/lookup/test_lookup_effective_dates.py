"""Issue 8: lookups and costing respect effective dates, through the real ingest and loader.

A deck downloaded ten days ago announced a price for five days ago: that scheduled price must be
the one in force now (by the clock alone, without another download), and calls on either side
of the effective date must be rated at their own price.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import duckdb
import polars as pl

from pipeline.analytics.lookup import cost_calls, lookup_number
from pipeline.ingest.voice import normalize_voice_deck
from pipeline.warehouse.migrate import apply_migrations
from pipeline.warehouse.voice import load_voice_snapshot

NOW = datetime.now(UTC).replace(microsecond=0)
FETCHED = NOW - timedelta(days=10)
EFFECTIVE = (NOW - timedelta(days=5)).date()
PAST = (NOW - timedelta(days=400)).date()


def deck_bytes() -> bytes:
    return (
        "Destination,Prefix,Price,Billing Increments,Effective Date\n"
        f"Ireland,353,0.0200,1/1,{PAST.isoformat()}\n"
        f"Ireland - Mobile,35389,0.1617,60/60,{PAST.isoformat()}\n"
        f"Ireland - Mobile,35389,0.2000,60/60,{EFFECTIVE.isoformat()}\n"
    ).encode()


def load(tmp_path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    apply_migrations(con)
    result = normalize_voice_deck(deck_bytes(), source="deck.csv", fetched_at=FETCHED)
    assert result.rejects.height == 0 and result.rows.height == 3
    load_voice_snapshot(
        con,
        tech_prefix="current",
        fetched_at=FETCHED,
        content_sha256="a" * 64,
        raw_path="raw/voice/current/deck.csv",
        result=result,
    )
    return con


def test_scheduled_price_is_current_by_the_clock_and_as_of_reads_see_both(tmp_path):
    con = load(tmp_path)
    effective_at = datetime(EFFECTIVE.year, EFFECTIVE.month, EFFECTIVE.day, tzinfo=UTC)
    before = lookup_number(
        con, "353 89 123 4567", duration_s=61, at=effective_at - timedelta(hours=1)
    )
    after = lookup_number(
        con, "353 89 123 4567", duration_s=61, at=effective_at + timedelta(hours=1)
    )
    now = lookup_number(con, "353 89 123 4567", duration_s=61, at=None)
    assert (before[0].matched_prefix, before[0].price) == ("35389", Decimal("0.16170000"))
    assert (after[0].price, now[0].price) == (Decimal("0.20000000"), Decimal("0.20000000"))
    assert before[0].cost == Decimal("0.323400")  # 120 billed seconds at 0.1617/min
    assert after[0].cost == Decimal("0.400000")
    current = con.execute("SELECT price FROM voice_rate_current WHERE prefix = '35389'").fetchall()
    assert current == [(Decimal("0.20000000"),)]
    sql_costs = con.execute(
        "SELECT call_cost('35389123', 61, 'current', ?), call_cost('35389123', 61, 'current', ?)",
        [effective_at - timedelta(hours=1), effective_at + timedelta(hours=1)],
    ).fetchall()
    assert sql_costs == [(Decimal("0.323400"), Decimal("0.400000"))]


def test_cost_calls_rate_each_call_on_its_side_of_the_effective_date(tmp_path):
    con = load(tmp_path)
    effective_at = datetime(EFFECTIVE.year, EFFECTIVE.month, EFFECTIVE.day, tzinfo=UTC)
    calls = pl.DataFrame(
        {
            "number": ["35389123", "35389123", "3531234"],
            "duration": [61, 61, 30],
            "started_at": [
                (effective_at - timedelta(minutes=1)).isoformat(),
                (effective_at + timedelta(minutes=1)).isoformat(),
                (effective_at + timedelta(minutes=1)).isoformat(),
            ],
        }
    )
    costed = cost_calls(con, calls, tech_prefixes=["current"], cost_decimals=6).frame
    assert costed["price"].cast(pl.String).to_list() == ["0.16170000", "0.20000000", "0.02000000"]
    assert costed["cost"].cast(pl.String).to_list() == ["0.323400", "0.400000", "0.010000"]
