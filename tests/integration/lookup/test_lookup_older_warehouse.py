"""A warehouse published by a ratedeck older than tech prefix aliases (no
``voice_deck_aliases()`` macro) cannot tell an alias from a tech prefix it never loaded: a
refused tech prefix says so, and that the next run fixes it, rather than only that the
warehouse has no rates for it."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from pipeline.cli import main


@pytest.fixture
def older_data_dir(data_dir: Path, tmp_path: Path) -> Path:
    """A copy of the lookup warehouse as a ratedeck before aliases published it."""
    copy = tmp_path / "data"
    copy.mkdir()
    shutil.copy(data_dir / "warehouse.duckdb", copy / "warehouse.duckdb")
    with duckdb.connect(str(copy / "warehouse.duckdb")) as con:
        con.execute("DROP MACRO TABLE voice_deck_aliases")
    return copy


def test_a_refused_tech_prefix_on_a_file_before_aliases_says_the_next_run_fixes_it(
    older_data_dir, monkeypatch, capsys
):
    monkeypatch.setenv("RATEDECK_DATA_DIR", str(older_data_dir))
    monkeypatch.delenv("RATEDECK_CONFIG", raising=False)
    monkeypatch.delenv("RATEDECK_WAREHOUSE", raising=False)

    code = main(["lookup", "4420 1", "--tech-prefix", "021009"])

    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == (
        "ratedeck: error: no rates for tech prefix '021009' in the warehouse (it has: current, "
        "021001); the published warehouse predates tech prefix aliases (an older ratedeck "
        "published it), so a tech prefix priced on another's deck is not known yet: the next "
        "`ratedeck run` publishes them\n"
    )


def test_a_current_file_refuses_an_unknown_tech_prefix_as_before(data_dir, monkeypatch, capsys):
    monkeypatch.setenv("RATEDECK_DATA_DIR", str(data_dir))
    monkeypatch.delenv("RATEDECK_CONFIG", raising=False)
    monkeypatch.delenv("RATEDECK_WAREHOUSE", raising=False)

    assert main(["lookup", "4420 1", "--tech-prefix", "021009"]) == 2
    assert capsys.readouterr().err == (
        "ratedeck: error: no rates for tech prefix '021009' in the warehouse (it has: current, "
        "021001)\n"
    )
