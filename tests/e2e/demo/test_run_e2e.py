"""``ratedeck run`` against an emulator the test starts, and the demo's refusal to wipe a data
dir it did not write: subprocesses on tmp data dirs."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from pipeline.emulator import EmulatorServer, Market
from pipeline.settings import load_settings
from pipeline.warehouse.db import Warehouse


def query(data_dir: Path, sql: str) -> list[tuple]:
    settings = load_settings(env={"RATEDECK_DATA_DIR": str(data_dir)})
    with Warehouse(settings).reader() as con:
        return con.execute(sql).fetchall()


def test_demo_refuses_a_data_dir_it_did_not_write(ratedeck, tmp_path):
    data_dir = tmp_path / "data"
    (data_dir / "raw").mkdir(parents=True)
    keep = data_dir / "raw" / "precious.csv"
    keep.write_text("prefix,price\n44,0.01\n")

    result = ratedeck("demo", cwd=tmp_path, RATEDECK_DATA_DIR=str(data_dir))

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("ratedeck: error: ")
    assert "holds data that the demo did not write" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert keep.read_text() == "prefix,price\n44,0.01\n"


SMALL_TOML = """\
[voice]
tech_prefixes = ["021002"]

[sms]
channels = []
"""


def data_dir_files(data_dir: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(data_dir)): p.read_bytes()
        for p in sorted(data_dir.rglob("*"))
        if p.is_file() and "dagster_home" not in p.parts and "state" not in p.parts
    }


@pytest.mark.slow  # a `ratedeck run` and a `ratedeck demo`
def test_demo_refuses_a_data_dir_a_real_run_wrote_to_after_it(ratedeck, tmp_path):
    """Issue 12: demo, then a real (non-demo) run into the same data dir, then demo again:
    the second demo must not wipe what the real run wrote."""
    data_dir = tmp_path / "data"
    config = tmp_path / "small.toml"
    config.write_text(SMALL_TOML)
    env = {"RATEDECK_DATA_DIR": str(data_dir), "RATEDECK_CONFIG": str(config)}
    demo = ratedeck("demo", "--deck-size", "50", cwd=tmp_path, **env)
    assert demo.returncode == 0, demo.stderr[-3000:]

    market = Market(seed=3, start_date=date(2026, 11, 1), deck_size=50, tech_prefixes=["021002"])
    with EmulatorServer(market, api_key="real-key", market_date=date(2026, 11, 1)) as server:
        real = ratedeck(
            "run", cwd=tmp_path, COMMPEAK_BASE_URL=server.url, COMMPEAK_API_KEY="real-key", **env
        )
    assert real.returncode == 0, real.stderr[-3000:]
    snapshots = query(data_dir, "SELECT count(*) FROM voice_snapshot")
    assert snapshots == [(3,)]  # the demo's two days and the real run's download
    before = data_dir_files(data_dir)

    again = ratedeck("demo", "--deck-size", "50", cwd=tmp_path, **env)

    assert again.returncode == 2
    assert again.stdout == ""
    assert again.stderr.startswith("ratedeck: error: ")
    assert "holds data that the demo did not write" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    assert data_dir_files(data_dir) == before  # nothing deleted, nothing rewritten
    assert query(data_dir, "SELECT count(*) FROM voice_snapshot") == snapshots


@pytest.mark.slow  # `ratedeck run` against the emulator
def test_run_select_balance_against_an_emulator(ratedeck, tmp_path):
    market = Market(seed=11, start_date=date(2026, 11, 1), deck_size=50)
    data_dir = tmp_path / "data"
    with EmulatorServer(market, api_key="e2e-key", market_date=date(2026, 11, 1)) as server:
        result = ratedeck(
            "run",
            "--select",
            "balance",
            cwd=tmp_path,
            RATEDECK_DATA_DIR=str(data_dir),
            COMMPEAK_BASE_URL=server.url,
            COMMPEAK_API_KEY="e2e-key",
        )
        paths = [r.path for r in server.request_log]

    assert result.returncode == 0, result.stderr
    assert paths == ["/customer"]
    assert re.search(r"^balance\s+ok\b", result.stdout, re.M), result.stdout
    assert "0 voice deck(s) and 0 SMS rate list(s) loaded" in result.stdout
    assert "Traceback" not in result.stderr
    balance = market.day(date(2026, 11, 1)).customer()["balance"]
    assert query(data_dir, "SELECT balance FROM balance_snapshot") == [(balance,)]


@pytest.mark.slow  # imports Dagster in a subprocess
def test_run_select_bogus_is_a_usage_error(ratedeck, tmp_path):
    result = ratedeck("run", "--select", "bogus", cwd=tmp_path, RATEDECK_DATA_DIR=str(tmp_path))

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "ratedeck: error: --select: unknown area bogus (choose from voice, sms, balance)"
    ]


@pytest.mark.parametrize("days", ["0", "-1", "32", "100000"])
def test_demo_days_out_of_range_is_one_line_and_exit_2(ratedeck, tmp_path, days):
    data_dir = tmp_path / "data"

    result = ratedeck("demo", "--days", days, cwd=tmp_path, RATEDECK_DATA_DIR=str(data_dir))

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"ratedeck: error: --days: {days} is not in 1..31 (a month at most: each day is a full "
        "pipeline run)\n"
    )
    assert not data_dir.exists()  # refused before anything is written
