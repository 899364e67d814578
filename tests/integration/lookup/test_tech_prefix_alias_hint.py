"""A tech prefix whose downloads were the deck another one holds (``voice_deck_alias``: stored
once, as the demo's ``021001`` is stored as ``current``) has no rates of its own: ``lookup``,
``cost`` and ``diff`` refuse it as before, and now say which tech prefix to ask for instead."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipeline.analytics.costing import cost_file
from pipeline.analytics.lookup import UnknownTechPrefixError, lookup_number
from pipeline.cli import main

ALIAS = "021009"
HINT = "its deck is 'current''s, stored once: ask for 'current'"


@pytest.fixture
def warehouse(data_dir: Path, tmp_path: Path) -> Path:
    """A copy of the lookup warehouse where ALIAS's one download was current's deck."""
    path = tmp_path / "data" / "warehouse.duckdb"
    path.parent.mkdir()
    shutil.copy(data_dir / "warehouse.duckdb", path)
    with duckdb.connect(str(path)) as con:  # the deck's rates only: snapshot 1 is a stand-in
        con.execute(
            "INSERT INTO voice_deck_alias VALUES (?, 'current', 1, ?, 'ab12', 'raw/voice/x.csv')",
            [ALIAS, datetime(2026, 6, 2, tzinfo=UTC)],
        )
    return path


def test_lookup_names_the_deck_an_alias_shares(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        with pytest.raises(UnknownTechPrefixError) as refused:
            lookup_number(con, "44", tech_prefixes=[ALIAS], duration_s=60)
        assert str(refused.value).endswith(HINT)
        # a tech prefix nobody downloaded gets no hint
        with pytest.raises(UnknownTechPrefixError) as unknown:
            lookup_number(con, "44", tech_prefixes=["999"], duration_s=60)
        assert str(unknown.value).endswith("(it has: current, 021001)")


def test_cost_names_the_deck_an_alias_shares(warehouse, tmp_path):
    source = tmp_path / "calls.csv"
    pl.DataFrame({"number": ["4420"], "duration": ["60"]}).write_csv(source)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        with pytest.raises(UnknownTechPrefixError) as refused:
            cost_file(
                con, source, tmp_path / "out.csv", rejects=tmp_path / "r.csv", tech_prefixes=[ALIAS]
            )
    assert str(refused.value).endswith(HINT)
    assert not (tmp_path / "out.csv").exists()


def test_diff_names_the_deck_an_alias_shares(warehouse, monkeypatch, capsys):
    monkeypatch.setenv("RATEDECK_DATA_DIR", str(warehouse.parent))
    assert main(["diff", "--tech-prefix", ALIAS]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1
    assert error[0].endswith(HINT)
