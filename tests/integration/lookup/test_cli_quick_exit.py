"""The installed ``ratedeck`` command (``pipeline.cli.entry``) ends a reading command without
the interpreter's teardown, and loses nothing by it: every byte printed and written is there,
the exit code is the command's, atexit handlers run, and a thread still working is waited for.
Each case runs the entry point in a fresh interpreter, as the installed command does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

# a module-level object whose finaliser runs only if the interpreter tears its modules down;
# then the entry point, as the console script calls it
PROBE = """
import sys
sys.argv = ["ratedeck", *sys.argv[1:]]
class Teardown:
    def __del__(self):
        sys.__stderr__.write("TEARDOWN\\n")
        sys.__stderr__.flush()
TEARDOWN = Teardown()
{before}
from pipeline.cli import entry
entry()
"""
# every call priced, in the deck's order: the JSON summary is long enough to sit in a buffer
NUMBERS = ["4420 7946 0000", "+44 7700 900123", "0044 20 7946 0001", "4491", "33 1 23"]


@pytest.fixture
def data(data_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the lookup data dir (``cost`` writes its engine cache there)."""
    copy = tmp_path / "data"
    shutil.copytree(data_dir, copy)
    return copy


def ratedeck(data: Path, *argv: str, before: str = "") -> subprocess.CompletedProcess[str]:
    # stdout buffered, as a user's is: an exit that skipped the flush would lose its end
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env["RATEDECK_DATA_DIR"] = str(data)
    probe = PROBE.format(before=before)
    return subprocess.run(
        [sys.executable, "-c", probe, *argv], capture_output=True, text=True, env=env, timeout=120
    )


def _calls(path: Path, rows: int) -> Path:
    pl.DataFrame(
        {
            "number": [NUMBERS[i % len(NUMBERS)] for i in range(rows)],
            "duration": [str(i % 600) for i in range(rows)],
            "started_at": ["2026-09-01 12:00"] * rows,
        }
    ).write_csv(path)
    return path


def test_cost_skips_the_teardown_and_keeps_its_output_and_summary(data, tmp_path):
    source = _calls(tmp_path / "calls.csv", 20_000)
    out = tmp_path / "costed.parquet"
    done = ratedeck(data, "cost", str(source), "--out", str(out), "--json")
    assert done.returncode == 0, done.stderr
    assert "TEARDOWN" not in done.stderr
    summary = json.loads(done.stdout)  # the whole document reached stdout
    assert summary["summary"]["calls"] == 20_000
    assert pl.read_parquet(out).height == summary["rows_written"] > 0
    # the same command in process, exiting the ordinary way, says the same
    again = ratedeck(
        data,
        "cost",
        str(source),
        "--out",
        str(tmp_path / "b.parquet"),
        "--json",
        before="import pipeline.commands.cost as c; c.QUICK_EXIT = False",
    )
    assert "TEARDOWN" in again.stderr
    assert json.loads(again.stdout) == {**summary, "output": str(tmp_path / "b.parquet")}
    assert pl.read_parquet(tmp_path / "b.parquet").equals(pl.read_parquet(out))


def test_a_bad_input_keeps_its_exit_code_and_one_line_error(data, tmp_path):
    (tmp_path / "bad.csv").write_text("number,duration\n44,abc\n")
    done = ratedeck(data, "cost", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "o.csv"))
    assert done.returncode == 2
    assert "TEARDOWN" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("ratedeck: error: ")


def test_lookup_output_is_flushed_into_a_pipe(data):
    done = ratedeck(data, "lookup", "4420 7946 0000", "--json", "--at", "2026-09-01 12:00")
    assert done.returncode == 0, done.stderr
    assert "TEARDOWN" not in done.stderr
    assert json.loads(done.stdout)  # complete JSON, not a buffer cut short


def test_atexit_handlers_still_run(data, tmp_path):
    marker = tmp_path / "atexit.txt"
    before = (
        f"import atexit, pathlib; atexit.register(pathlib.Path({str(marker)!r}).write_text, 'ran')"
    )
    done = ratedeck(data, "lookup", "4491", before=before)
    assert done.returncode == 0, done.stderr
    assert marker.read_text() == "ran"


def test_a_thread_still_working_gets_the_ordinary_exit(data, tmp_path):
    marker = tmp_path / "thread.txt"
    # the thread starts its second of work when the command returns, so it is still working
    # when the exit is chosen however slowly the command ran
    before = (
        "import pathlib, threading, time\n"
        "import pipeline.cli as cli\n"
        "returned = threading.Event()\n"
        "command = cli.main\n"
        "def main(argv):\n"
        "    code = command(argv); returned.set(); return code\n"
        "cli.main = main\n"
        "def late():\n"
        "    returned.wait(); time.sleep(1.0)\n"
        f"    pathlib.Path({str(marker)!r}).write_text('done')\n"
        "threading.Thread(target=late).start()"
    )
    done = ratedeck(data, "lookup", "4491", before=before)
    assert done.returncode == 0, done.stderr
    assert marker.read_text() == "done"
    assert "TEARDOWN" in done.stderr


def test_a_command_that_writes_the_warehouse_exits_the_ordinary_way(data):
    done = ratedeck(data, "cdr", "status")
    assert "TEARDOWN" in done.stderr
