"""A data dir with no warehouse (not loaded yet, or mistyped): every command that needs data
refuses with one line, exit 2, and creates nothing there."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.cli import main


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "--send"],
        ["report"],
        ["cdr", "cost"],
        ["cdr", "cost", "--day", "2026-11-01"],
        ["cdr", "status"],
    ],
)
def test_a_missing_warehouse_is_refused_and_nothing_is_created(argv, tmp_path, monkeypatch, capsys):
    data_dir = tmp_path / "nodata"
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RATEDECK_CONFIG", raising=False)
    monkeypatch.delenv("RATEDECK_WAREHOUSE", raising=False)
    monkeypatch.setenv("RATEDECK_DATA_DIR", str(data_dir))

    code = main(argv)

    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == (
        f"ratedeck: error: no warehouse yet at {data_dir / 'warehouse.duckdb'}: run `ratedeck "
        "run` or `ratedeck demo`\n"
    )
    assert not data_dir.exists()
    assert sorted(p.name for p in Path(tmp_path).iterdir()) == []
