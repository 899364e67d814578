"""``ratedeck emulator`` in a child process: prints where it listens, serves, Ctrl-C stops it.

The command module is driven through a minimal parser with the CLI's common flags, so this test
does not depend on the other subcommands being importable.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from support.ctrl_c import FAULTHANDLER_ENV, interrupt

HARNESS = """
import argparse, sys
from pipeline.commands import emulator
from pipeline.errors import RatedeckError
from pipeline.settings import load_settings
parser = argparse.ArgumentParser()
parser.add_argument("--config")
parser.add_argument("--json", action="store_true")
parser.add_argument("--debug", action="store_true")
emulator.add_arguments(parser)
args = parser.parse_args(sys.argv[1:])
try:
    sys.exit(emulator.run(args, load_settings(args.config)))
except RatedeckError as exc:
    print(f"ratedeck: error: {exc}", file=sys.stderr)
    sys.exit(exc.exit_code)
"""
REPO = Path(__file__).resolve().parents[3]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMMPEAK_", "RATEDECK_"))}
    env["PYTHONPATH"] = str(REPO)
    env.update(FAULTHANDLER_ENV)
    env.update(extra)
    return env


def _start(tmp_path: Path, *args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", HARNESS, *args],
        cwd=tmp_path,
        env=_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _lines(proc: subprocess.Popen) -> queue.Queue[str]:
    """stdout lines as they come (a thread: select() cannot see lines already buffered)."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:
            lines.put(line)
        lines.put("")

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _read_until(lines: queue.Queue[str], last: Callable[[str], bool], timeout: float = 60) -> str:
    text = []
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("the emulator printed nothing") from None
        if not line:
            raise AssertionError(f"the emulator exited after printing {text!r}")
        text.append(line)
        if last(line):
            return "".join(text)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[subprocess.Popen, dict]]:
    proc = _start(
        tmp_path,
        "--port", "0", "--json", "--seed", "3", "--deck-size", "60",
        "--date", "2026-11-05", "--faults", "429:1@0.01", "--effective-dates",
    )  # fmt: skip
    try:
        yield proc, json.loads(_read_until(_lines(proc), lambda line: line.rstrip() == "}"))
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def test_serves_until_ctrl_c(running: tuple[subprocess.Popen, dict]) -> None:
    proc, doc = running
    assert doc["url"].startswith("http://127.0.0.1:")
    assert doc["api_key"] == "emulator-key" and doc["api_key_source"] == "default"
    assert doc["market_date"] == "2026-11-05" and doc["faults"] == "429:1@0.01"
    assert doc["effective_dates"] is True and doc["deck_size"] == 60
    headers = {"Authorization": "Token emulator-key"}
    assert requests.get(doc["url"] + "/customer", headers=headers, timeout=10).status_code == 429
    download = requests.get(doc["url"] + "/rates/current/download", headers=headers, timeout=10)
    assert download.status_code == 200
    assert "rates_current_2026-11-05.csv" in download.headers["Content-Disposition"]
    code, err = interrupt(proc)
    assert code == 0
    assert "GET /customer -> 429 (fault 429)" in err and "stopped" in err


def test_a_key_from_the_environment_is_accepted_but_never_printed(tmp_path: Path) -> None:
    proc = _start(tmp_path, "--port", "0", "--deck-size", "20", COMMPEAK_API_KEY="s3cret-key")
    try:
        text = _read_until(_lines(proc), lambda line: "Ctrl-C" in line)
        assert "s3cret-key" not in text and "COMMPEAK_API_KEY" in text
        url = next(w for w in text.split() if w.startswith("COMMPEAK_BASE_URL=")).split("=", 1)[1]
        ok = requests.get(
            url + "/customer", headers={"Authorization": "Token s3cret-key"}, timeout=10
        )
        assert ok.status_code == 200
        assert interrupt(proc)[0] == 0
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--faults", "bogus"], "unknown fault 'bogus'"),
        (["--date", "2026-02-30"], "--date: expected a date"),
        (["--port", "70000"], "--port"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    proc = _start(tmp_path, *args)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.strip().count("\n") == 0 and message in err
