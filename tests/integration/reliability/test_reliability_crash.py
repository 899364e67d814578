"""Crash safety: a load killed with SIGKILL (a child process, stalled at a known point by a
test-only driver) leaves the published warehouse exactly as it was, the working copy recovers,
the lock is released, and the next load of the same raw file succeeds exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support import reliability_crash_driver
from support.reliability import dump_both, dump_warehouse, query, temp_leftovers
from support.reliability_crash_driver import synthetic_deck

from pipeline.landing import LandingZone
from pipeline.settings import Settings
from pipeline.stages.voice import load_voice_deck, normalise_voice_deck
from pipeline.warehouse.db import Warehouse

pytestmark = pytest.mark.slow  # a 30,000-row load in a child process, SIGKILLed

DRIVER = Path(reliability_crash_driver.__file__)
REPO = Path(__file__).resolve().parents[3]
BIG_DECK_ROWS = 30_000
BASELINE_ROWS = 500


@pytest.fixture
def settings(tmp_path) -> Settings:
    """A warehouse holding one small snapshot of 021001 (loaded an hour ago)."""
    settings = Settings().with_overrides(paths={"data_dir": str(tmp_path / "data")})
    landed = LandingZone(settings.data_dir).store_bytes(
        "voice",
        "021001",
        synthetic_deck(BASELINE_ROWS, "0.0100"),
        ext="csv",
        fetched_at=datetime.now(UTC) - timedelta(hours=1),
    )
    load_voice_deck(settings, normalise_voice_deck(settings, landed))
    return settings


def kill_driver_at(mode: str, settings: Settings, tmp_path: Path) -> str:
    """Runs the driver until it stalls at ``mode``, SIGKILLs it; returns the raw file it landed."""
    ready = tmp_path / f"{mode}.ready"
    child = subprocess.Popen(
        [sys.executable, str(DRIVER), mode, str(settings.data_dir), str(ready), str(BIG_DECK_ROWS)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        landed = child.stdout.readline().strip()
        deadline = time.monotonic() + 120
        while not ready.exists():
            assert child.poll() is None, f"the driver ended before stalling ({child.returncode})"
            assert time.monotonic() < deadline, "the driver never reached the stall point"
            time.sleep(0.02)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    return landed


def replay(settings: Settings, relative_path: str):
    landed = LandingZone(settings.data_dir).open_landed("voice", "021001", relative_path)
    return load_voice_deck(settings, normalise_voice_deck(settings, landed))


def current_prices(settings: Settings) -> list[tuple]:
    return query(
        settings.warehouse_path,
        "SELECT CAST(price AS VARCHAR), count(*) FROM wh.voice_rate_current "
        "WHERE tech_prefix = '021001' GROUP BY 1 ORDER BY 1",
    )


def test_sigkill_inside_the_load_transaction(settings, tmp_path):
    before = dump_both(settings)

    landed = kill_driver_at("transaction", settings, tmp_path)

    published, _ = dump_both(settings)
    assert published == before[0]
    # the working copy recovers: a writer opens it (the dead process's lock is gone with it)
    # and it holds what was committed before the crash, nothing of the killed transaction
    wh = Warehouse(settings.warehouse_path, settings.state_dir, lock_timeout_s=10)
    with wh.writer() as con:
        con.execute("SELECT 1").fetchall()
    assert dump_both(settings) == before

    load = replay(settings, landed)  # the next run: the same raw file, loaded in full, once
    assert not load.replayed and load.row_count == BIG_DECK_ROWS
    assert current_prices(settings) == [("0.02000000", BIG_DECK_ROWS)]
    assert len(dump_warehouse(settings.warehouse_path)["voice_snapshot"]) == 2


def test_sigkill_while_publishing(settings, tmp_path):
    before = dump_both(settings)

    landed = kill_driver_at("publish", settings, tmp_path)

    # readers still get the previous warehouse, whole
    assert dump_warehouse(settings.warehouse_path) == before[0]
    half_copies = list(settings.data_dir.glob(".warehouse.duckdb.*.tmp"))
    assert len(half_copies) == 1
    # the load had committed to the working copy: the next writer publishes it and removes the
    # half-written copy
    with Warehouse(settings).writer() as con:
        con.execute("SELECT 1").fetchall()
    assert temp_leftovers(settings.data_dir) == []
    assert current_prices(settings) == [("0.02000000", BIG_DECK_ROWS)]
    # replaying that raw file now adds nothing: it is recognised
    assert replay(settings, landed).replayed
    assert len(dump_warehouse(settings.warehouse_path)["voice_snapshot"]) == 2


def test_sigkill_while_refreshing_the_working_copy(settings, tmp_path):
    """Killed while the file published before is brought up to date as the next working copy
    (half of it new, half old): readers never see it, and the next writer redoes it."""
    kill_driver_at("refresh", settings, tmp_path)

    published = dump_warehouse(settings.warehouse_path)
    assert current_prices(settings) == [("0.02000000", BIG_DECK_ROWS)]
    wh = Warehouse(settings.warehouse_path, settings.state_dir, lock_timeout_s=10)
    with wh.writer() as con:
        con.execute("SELECT 1").fetchall()
    assert dump_both(settings) == (published, published)
    assert not os.path.samefile(wh.working_path, wh.published_path)
    assert temp_leftovers(settings.data_dir) == []
