"""A moment before all history is not a plain "no match": lookup and cost say when the history
of the tech prefix starts. Lookup shows the currency of each rate."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipeline.analytics.lookup import cost_calls, lookup_number
from pipeline.warehouse.migrate import apply_migrations

START = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
HINT = "no price: history for tech prefix current starts 2026-12-02 10:00 UTC"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    con = duckdb.connect(str(path / "warehouse.duckdb"))
    try:
        apply_migrations(con)
        con.execute(
            "INSERT INTO voice_rate (tech_prefix, prefix, destination, price, initial_seconds,"
            " increment_seconds, currency, valid_from, first_seen_at, first_snapshot_id)"
            " VALUES ('current', '44', 'UK', 0.1, 1, 1, 'USD', ?, ?, 1)",
            [START, START],
        )
    finally:
        con.close()
    return path


@pytest.fixture
def con(data_dir: Path):
    connection = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    yield connection
    connection.close()


def test_lookup_before_history_says_when_it_starts(con):
    [before] = lookup_number(con, "4420", duration_s=60, at=datetime(2020, 1, 1, tzinfo=UTC))
    [unknown] = lookup_number(con, "3312", duration_s=60, at=START)

    assert not before.matched
    assert before.no_match_reason == HINT
    assert (unknown.matched, unknown.no_match_reason) == (False, None)  # no prefix: no hint


def test_lookup_cli_prints_the_hint_and_the_currency(ratedeck):
    code, out, err = ratedeck("lookup", "4420", "--at", "2020-01-01")
    assert (code, err) == (0, "")
    assert HINT in out.splitlines()

    code, out, _ = ratedeck("lookup", "4420", "--at", "2026-12-03", "--duration", "60")
    header, _rule, row = out.splitlines()[1:4]
    assert "currency" in header.split()
    assert row.split()[-1] == "USD"
    code, out, _ = ratedeck("lookup", "4420", "--at", "2026-12-03", "--json")
    assert json.loads(out)["results"][0]["currency"] == "USD"


def test_cost_counts_calls_before_history_with_the_hint(con):
    calls = pl.DataFrame(
        {
            "number": ["4420", "4420", "3312"],
            "duration": [60, 60, 60],
            "started_at": ["2020-01-01", "2026-12-03", "2020-01-01"],
        }
    )

    result = cost_calls(con, calls)

    [total] = result.summary.per_tech_prefix
    assert (total.matched, total.unmatched, total.before_history) == (1, 2, 2)
    assert result.summary.notes == [f"2 call(s) before history: {HINT}"]


def test_cost_cli_prints_the_hint(ratedeck, tmp_path):
    calls = tmp_path / "calls.csv"
    calls.write_text("number,duration,started_at\n4420,60,2020-01-01\n")
    code, out, _ = ratedeck("cost", str(calls))
    assert code == 0
    assert f"1 call(s) before history: {HINT}" in out.splitlines()


@pytest.mark.parametrize(
    ("starts", "shown"),
    [
        (datetime(2026, 12, 7, 20, 35, 59, 970000, tzinfo=UTC), "2026-12-07 20:35:59.97"),
        (datetime(2026, 12, 7, 20, 35, 59, tzinfo=UTC), "2026-12-07 20:35:59"),
        (datetime(2026, 12, 7, 20, 35, 0, 1, tzinfo=UTC), "2026-12-07 20:35:00.000001"),
        (START, "2026-12-02 10:00"),
    ],
)
def test_the_hint_names_a_moment_with_prices(tmp_path, starts, shown):
    """The moment the hint names is the first with a price, to the microsecond: cut to the
    minute (20:35) it was a moment before the history, with no price either."""
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        apply_migrations(con)
        con.execute(
            "INSERT INTO voice_rate (tech_prefix, prefix, destination, price, initial_seconds,"
            " increment_seconds, currency, valid_from, first_seen_at, first_snapshot_id)"
            " VALUES ('current', '44', 'UK', 0.1, 1, 1, 'USD', ?, ?, 1)",
            [starts, starts],
        )
        [before] = lookup_number(con, "4420", duration_s=60, at=datetime(2020, 1, 1, tzinfo=UTC))
        hint = f"no price: history for tech prefix current starts {shown} UTC"
        assert before.no_match_reason == hint
        named = datetime.fromisoformat(shown).replace(tzinfo=UTC)
        [priced] = lookup_number(con, "4420", duration_s=60, at=named)
        assert priced.matched
