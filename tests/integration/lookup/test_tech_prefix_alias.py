"""A tech prefix whose downloads were the deck another one holds (``voice_deck_alias``: stored
once, as the demo's ``021001`` is stored as ``current``) is priced on that deck everywhere, by
the one rule CDR costing applies (``voice_deck_aliases()``, sql/macros/050_voice_deck.sql):
``lookup``, ``cost`` (engine cache included) and the SQL macros give exactly the shared deck's
prices, labelled with the tech prefix asked for. ``diff`` keeps refusing it with a hint: the
history of changes is the deck's, kept under its own tech prefix."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
from support.lookup_reference import Version, reference_billed, reference_cost, reference_match
from support.lookup_warehouse import STANDARD_HISTORY, costed_rows, insert_versions

from pipeline.analytics._engine_cache import EngineCache
from pipeline.analytics.costing import cost_file
from pipeline.analytics.lookup import UnknownTechPrefixError, cost_calls, lookup_number
from pipeline.analytics.numbers import normalise_number
from pipeline.cli import main

ALIAS = "021009"
NOTE = "021009: priced on current's deck (the same deck, stored once)"
HINT = "its deck is 'current''s, stored once: ask for 'current'"
MARCH = datetime(2026, 3, 1, 12, tzinfo=UTC)
JULY = datetime(2026, 7, 1, 8, tzinfo=UTC)
LATER = datetime(2026, 9, 1, tzinfo=UTC)
NUMBERS = ["44", "4420 1", "+44 20 79 1", "4491", "33", "00442079555", "449"]
SECONDS = [0, 1, 29, 61, 185]
CURRENT = [
    Version(prefix, destination, Decimal(price), a, b, start, end)
    for tp, prefix, destination, price, a, b, start, end in STANDARD_HISTORY
    if tp == "current"
]


def _alias(con: duckdb.DuckDBPyConnection, same_as: str, fetched_at: datetime) -> None:
    """ALIAS's download of ``fetched_at`` was ``same_as``'s deck (snapshot 1: a stand-in)."""
    con.execute(
        "INSERT INTO voice_deck_alias VALUES (?, ?, 1, ?, 'ab12', 'raw/voice/x.csv')",
        [ALIAS, same_as, fetched_at],
    )


@pytest.fixture
def warehouse(data_dir: Path, tmp_path: Path) -> Path:
    """A copy of the lookup warehouse where ALIAS's downloads were first 021001's deck, then
    current's: the latest download names the deck (current)."""
    path = tmp_path / "data" / "warehouse.duckdb"
    path.parent.mkdir()
    shutil.copy(data_dir / "warehouse.duckdb", path)
    with duckdb.connect(str(path)) as con:
        _alias(con, "021001", datetime(2026, 6, 1, tzinfo=UTC))
        _alias(con, "current", datetime(2026, 6, 2, tzinfo=UTC))
    return path


@pytest.fixture
def alias_con(warehouse: Path):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        yield con


def _reference(number: str, seconds: int, at: datetime) -> tuple[str | None, Decimal | None]:
    """The matched prefix and cost of a call on current's deck, by brute force."""
    hit = reference_match(CURRENT, normalise_number(number), at)
    if hit is None:
        return None, None
    return hit.prefix, reference_cost(
        hit.price, reference_billed(seconds, hit.initial, hit.increment), 6
    )


# -- lookup -----------------------------------------------------------------------------------
@pytest.mark.parametrize("at", [MARCH, JULY])
def test_lookup_prices_an_alias_on_the_deck_it_shares(alias_con, at):
    for number in NUMBERS:
        for seconds in SECONDS:
            alias, deck = lookup_number(
                alias_con, number, tech_prefixes=[ALIAS, "current"], duration_s=seconds, at=at
            )
            assert (alias.tech_prefix, alias.rated_on) == (ALIAS, "current")
            assert alias.to_dict() == {**deck.to_dict(), "tech_prefix": ALIAS}
            assert (alias.matched_prefix, alias.cost) == _reference(number, seconds, at)


def test_every_tech_prefix_leaves_the_alias_out_with_a_note(alias_con, ratedeck):
    results = lookup_number(alias_con, "4420", duration_s=60, at=MARCH)
    assert [(r.tech_prefix, r.rated_on) for r in results] == [
        ("current", "current"),
        ("021001", "021001"),
    ]
    code, out, _ = ratedeck("lookup", "4420", "--at", "2026-03-01T12:00", "--json")
    document = json.loads(out)
    assert [r["tech_prefix"] for r in document["results"]] == ["current", "021001"]
    assert document["notes"] == [f"{NOTE}; left out, as it repeats current: ask for {ALIAS}"]


def test_an_unknown_tech_prefix_is_refused_naming_the_aliases_too(alias_con):
    with pytest.raises(UnknownTechPrefixError) as unknown:
        lookup_number(alias_con, "44", tech_prefixes=["999"], duration_s=60)
    assert str(unknown.value).endswith(f"(it has: current, 021001, {ALIAS})")


# -- the SQL macros ---------------------------------------------------------------------------
@pytest.mark.parametrize("at", [MARCH, JULY])
def test_the_sql_macros_price_an_alias_on_the_deck_it_shares(alias_con, at):
    assert alias_con.execute("SELECT voice_deck_of(?)", [ALIAS]).fetchall() == [("current",)]
    for number in NUMBERS:
        rate = "SELECT * EXCLUDE (tech_prefix) FROM lpm_rate(?, ?, ?)"
        alias = alias_con.execute(rate, [number, ALIAS, at]).fetchall()
        assert alias == alias_con.execute(rate, [number, "current", at]).fetchall()
        labels = "SELECT tech_prefix, rated_on FROM lpm_rate(?, ?, ?)"
        assert alias_con.execute(labels, [number, ALIAS, at]).fetchall() == (
            [(ALIAS, "current")] if alias else []
        )
        for seconds in SECONDS:
            [(cost,)] = alias_con.execute(
                "SELECT call_cost(?, ?, ?, ?)", [number, seconds, ALIAS, at]
            ).fetchall()
            assert cost == _reference(number, seconds, at)[1]
    versions = "SELECT * FROM lpm_versions(?, TIMESTAMPTZ '2026-01-01', TIMESTAMPTZ '2027-01-01')"
    deck = alias_con.execute(versions, ["current"]).fetchall()
    assert deck and alias_con.execute(versions, [ALIAS]).fetchall() == deck


def test_call_cost_over_a_table_of_calls_prices_each_route_on_its_deck(alias_con):
    rows = alias_con.execute(
        "SELECT route, call_cost('4420 1', 61, route, ?) FROM (VALUES ('current'), (?),"
        " ('021001'), ('999')) calls(route) ORDER BY route",
        [MARCH, ALIAS],
    ).fetchall()
    on_current = _reference("4420 1", 61, MARCH)[1]
    assert rows == [
        ("021001", Decimal("0.305000")),
        (ALIAS, on_current),
        ("999", None),
        ("current", on_current),
    ]


# -- cost -------------------------------------------------------------------------------------
def _calls(path: Path, at: datetime) -> Path:
    pl.DataFrame(
        {
            "number": [n for n in NUMBERS for _ in SECONDS],
            "duration": [str(s) for _ in NUMBERS for s in SECONDS],
            "started_at": at.isoformat(),
        }
    ).write_csv(path)
    return path


def _cost(warehouse: Path, source: Path, out: Path, cache: EngineCache | None, tech_prefixes):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return cost_file(
            con,
            source,
            out,
            rejects=out.with_suffix(".rejects.csv"),
            tech_prefixes=tech_prefixes,
            now=LATER,
            cache=cache,
        )


@pytest.mark.parametrize("at", [MARCH, JULY])
def test_cost_prices_an_alias_on_the_deck_it_shares(warehouse, tmp_path, at):
    source = _calls(tmp_path / "calls.csv", at)
    both = _cost(warehouse, source, tmp_path / "both.csv", None, [ALIAS, "current"])
    costed = costed_rows(tmp_path / "both.csv")
    expected = [_reference(n, s, at) for n in NUMBERS for s in SECONDS]
    assert costed[0::2] == [(ALIAS, *hit) for hit in expected]
    assert costed[1::2] == [("current", *hit) for hit in expected]
    alias, deck = both.summary.per_tech_prefix
    assert (alias.tech_prefix, alias.rated_on, deck.rated_on) == (ALIAS, "current", "current")
    assert {**alias.__dict__, "tech_prefix": "current"} == deck.__dict__
    assert both.summary.notes == [NOTE]


def test_cost_calls_in_memory_prices_an_alias_too(alias_con):
    calls = pl.DataFrame({"number": ["4420 1"], "duration": [61]})
    result = cost_calls(alias_con, calls, tech_prefixes=[ALIAS], now=MARCH)
    assert result.frame["tech_prefix"].cast(pl.String).to_list() == [ALIAS]
    assert result.frame["cost"].to_list() == [_reference("4420 1", 61, MARCH)[1]]


def test_cost_of_every_tech_prefix_leaves_the_alias_out_with_a_note(warehouse, tmp_path):
    source = _calls(tmp_path / "calls.csv", MARCH)
    result = _cost(warehouse, source, tmp_path / "all.csv", None, None)
    assert [t.tech_prefix for t in result.summary.per_tech_prefix] == ["current", "021001"]
    assert result.summary.notes == [f"{NOTE}; left out, as it repeats current: ask for {ALIAS}"]


def _republish_with_own_deck(warehouse: Path) -> None:
    """What publishing does (a new file renamed over the published one), after ALIAS got a
    deck of its own: a snapshot and its rates, 44 at 0.77 a minute."""
    new = warehouse.with_name("next.duckdb")
    shutil.copy(warehouse, new)
    with duckdb.connect(str(new)) as con:
        con.execute(
            "INSERT INTO voice_snapshot (snapshot_id, tech_prefix, fetched_at, loaded_at,"
            " content_sha256, raw_path, source_format, row_count, reject_count, rates_opened,"
            " rates_closed) VALUES (2, ?, ?, ?, 'cd34', 'raw/voice/y.csv', 'csv', 1, 0, 1, 0)",
            [ALIAS, datetime(2026, 6, 3, tzinfo=UTC), datetime(2026, 6, 3, tzinfo=UTC)],
        )
        insert_versions(
            con, [(ALIAS, "44", "UK", "0.77", 60, 60, datetime(2026, 1, 1, tzinfo=UTC), None)]
        )
    os.replace(new, warehouse)


def test_the_engine_cache_follows_an_alias_that_gets_its_own_deck(warehouse, tmp_path):
    cache_dir = warehouse.parent / "state" / "engine_cache"
    source = _calls(tmp_path / "calls.csv", JULY)
    expected = [(ALIAS, *_reference(n, s, JULY)) for n in NUMBERS for s in SECONDS]
    for name in ("first.csv", "cached.csv"):  # built, then served from the cache
        result = _cost(
            warehouse, source, tmp_path / name, EngineCache(cache_dir, warehouse), [ALIAS]
        )
        assert costed_rows(tmp_path / name) == expected
        assert result.summary.notes == [NOTE]
    assert EngineCache(cache_dir, warehouse).catalog()[2] == {ALIAS: "current"}
    _republish_with_own_deck(warehouse)
    result = _cost(
        warehouse, source, tmp_path / "own.csv", EngineCache(cache_dir, warehouse), [ALIAS]
    )
    own = costed_rows(tmp_path / "own.csv")
    assert {cost for _, prefix, cost in own if prefix == "44"} == {
        reference_cost(Decimal("0.77"), reference_billed(s, 60, 60), 6) for s in SECONDS
    }
    assert {prefix for _, prefix, _ in own} == {"44", None}  # its own deck holds 44 alone
    assert (result.summary.notes, result.summary.per_tech_prefix[0].rated_on) == ([], ALIAS)
    fresh = _cost(warehouse, source, tmp_path / "fresh.csv", None, [ALIAS])
    assert costed_rows(tmp_path / "fresh.csv") == own and fresh.summary == result.summary


# -- the commands -----------------------------------------------------------------------------
@pytest.fixture
def ratedeck(warehouse: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RATEDECK_DATA_DIR", str(warehouse.parent))

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_ratedeck_lookup_of_an_alias(ratedeck):
    code, out, _ = ratedeck(
        "lookup",
        "4420 1",
        "--tech-prefix",
        ALIAS,
        "--duration",
        "61",
        "--at",
        "2026-03-01T12:00",
        "--json",
    )
    document = json.loads(out)
    [result] = document["results"]
    assert code == 0
    assert (result["tech_prefix"], result["rated_on"]) == (ALIAS, "current")
    assert Decimal(result["cost"]) == _reference("4420 1", 61, MARCH)[1]
    assert document["notes"] == [NOTE]
    code, out, _ = ratedeck("lookup", "4420 1", "--at", "2026-03-01T12:00")
    lines = out.splitlines()
    assert code == 0
    assert [line.split()[0] for line in lines[3:5]] == ["current", "021001"]  # the table
    assert lines[5] == f"{NOTE}; left out, as it repeats current: ask for {ALIAS}"


def test_ratedeck_cost_of_an_alias(ratedeck, tmp_path):
    source = _calls(tmp_path / "calls.csv", MARCH)
    code, out, _ = ratedeck("cost", str(source), "--tech-prefix", ALIAS, "--no-cache")
    assert code == 0
    assert NOTE in out.splitlines()
    expected = [(ALIAS, *_reference(n, s, MARCH)) for n in NUMBERS for s in SECONDS]
    assert costed_rows(tmp_path / "calls.costed.csv") == expected


def test_diff_names_the_deck_an_alias_shares(warehouse, monkeypatch, capsys):
    monkeypatch.setenv("RATEDECK_DATA_DIR", str(warehouse.parent))
    assert main(["diff", "--tech-prefix", ALIAS]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1
    assert error[0].endswith(HINT)
