"""A ``ratedeck cost`` killed with SIGKILL (or a power loss) leaves its temporary files beside
the output; the next run writing that output (``cost``, or ``sql --out``) removes them, one
log line each, and never the temporary of a run still alive (here: stopped with SIGSTOP),
which then finishes as if nothing happened. Real processes, real signals."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import polars as pl
import pytest
from support.cli_errors import RATEDECK, cli_env

pytestmark = pytest.mark.slow  # three or four ratedeck processes, one costing 400k calls

BIG_CALLS = 400_000


@pytest.fixture
def data(data_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(data_dir, copy)
    return copy


def _calls(path: Path, rows: int) -> Path:
    """Calls whose first row is bad, so a run writes its rejects' temporary at once."""
    numbers = ["44x"] + ["4420 7946 0000", "+44 7700 900123", "33 1 23"] * (rows // 3)
    pl.DataFrame(
        {"number": numbers, "duration": [str(i % 600) for i in range(len(numbers))]}
    ).write_csv(path)
    return path


def _start_cost(data: Path, source: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [RATEDECK, "cost", str(source), "--out", str(out), "--batch-rows", "1000", "--no-cache"],
        env=cli_env(RATEDECK_DATA_DIR=str(data)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _temporaries(folder: Path) -> set[Path]:
    return {p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")}


def _writing(process: subprocess.Popen[str], folder: Path, known: set[Path]) -> set[Path]:
    """The new temporaries of ``process``, once it has written into both of them (the output's
    and the rejects')."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the run ended before it was caught writing: {process}"
        found = _temporaries(folder) - known
        if len(found) == 2 and all(_size(p) > 0 for p in found):
            return found
        time.sleep(0.005)
    raise AssertionError(f"no temporary of the run appeared in {folder}")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _second_run(kind: str, data: Path, tmp_path: Path, out: Path) -> subprocess.CompletedProcess:
    if kind == "cost":
        small = _calls(tmp_path / "small.csv", 30)
        argv = ["cost", str(small), "--out", str(out), "--no-cache"]
    else:
        argv = ["sql", "SELECT 1 AS answer", "--out", str(out)]
    return subprocess.run(
        [RATEDECK, *argv],
        env=cli_env(RATEDECK_DATA_DIR=str(data)),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("kind", ["cost", "sql"])
def test_a_killed_runs_temporaries_are_removed_and_a_live_ones_are_left(data, tmp_path, kind):
    source = _calls(tmp_path / "calls.csv", BIG_CALLS)
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "costed.csv"

    alive = _start_cost(data, source, out)
    try:
        held = _writing(alive, folder, set())
        alive.send_signal(signal.SIGSTOP)  # alive, mid-write, holding its temporaries
        killed = _start_cost(data, source, out)
        stale = _writing(killed, folder, held)  # it left the live run's temporaries alone
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=60)
        assert _temporaries(folder) == held | stale  # what a SIGKILL leaves behind

        second = _second_run(kind, data, tmp_path, out)

        assert second.returncode == 0, second.stderr
        # sql --out writes no rejects file: the rejects' stale temporary is not its business
        swept = stale if kind == "cost" else {p for p in stale if ".rejects." not in p.name}
        assert _temporaries(folder) == held | (stale - swept)
        removed = [line for line in second.stderr.splitlines() if "stale temporary" in line]
        assert len(removed) == len(swept) == (2 if kind == "cost" else 1), second.stderr
        for path in swept:
            assert sum(str(path) in line for line in removed) == 1, second.stderr
        if kind == "sql":
            assert out.read_text() == "answer\n1\n"
        else:
            assert len(out.read_text().splitlines()) == 1 + 2 * 30  # header, 30 calls x 2
    finally:
        alive.send_signal(signal.SIGCONT)
    _, err = alive.communicate(timeout=300)
    assert alive.returncode == 0, err  # nobody touched its temporaries
    assert _temporaries(folder) == stale - swept
    assert len(out.read_text().splitlines()) == 1 + 2 * (BIG_CALLS // 3 * 3)
