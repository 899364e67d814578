"""``ratedeck emulator`` through the real console script: it prints its URL, the client fetches
from it (faults included), Ctrl-C stops it cleanly; bad input is one line and exit 2."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from support.ctrl_c import interrupt

from pipeline.commpeak import CommPeakClient
from pipeline.ingest.voice import normalize_voice_deck

COMMANDS = ("demo", "run", "lookup", "cost", "cdr", "diff", "report", "sql", "emulator")
URL_LINE = re.compile(r"^\s*export COMMPEAK_BASE_URL=(http://127\.0\.0\.1:[0-9]+)\s*$", re.M)
KEY_LINE = re.compile(r"^\s*export COMMPEAK_API_KEY=(\S+)\s*$", re.M)


def test_serves_the_client_then_stops_on_ctrl_c(spawn, tmp_path: Path) -> None:
    proc, lines = spawn(
        "emulator", "--port", "0", "--seed", "5", "--deck-size", "150",
        "--date", "2026-11-03", "--faults", "429:1@0.01,reset:1/download",
    )  # fmt: skip
    banner = lines.until(lambda line: "Ctrl-C" in line)
    assert "market day 2026-11-03" in banner and "faults: 429:1@0.01,reset:1/download" in banner
    url = URL_LINE.search(banner).group(1)
    api_key = KEY_LINE.search(banner).group(1)

    sleeps: list[float] = []
    with CommPeakClient(url, api_key, sleep=sleeps.append, timeout_s=10) as client:
        customer = client.customer()  # 429 first, Retry-After 0.01
        download = client.download_rates("current", tmp_path / "current.csv")  # reset first
    assert customer.email and sleeps[0] == 0.01 and len(sleeps) == 2
    assert download.filename == "rates_current_2026-11-03.csv"
    result = normalize_voice_deck(download.path.read_bytes(), source=str(download.path))
    assert result.rows.height == 150 and result.rejects.height == 0

    code, stderr = interrupt(proc)
    assert code == 0  # Ctrl-C is how a foreground server is meant to end
    assert "GET /customer -> 429 (fault 429)" in stderr
    assert "GET /rates/current/download -> reset (fault reset)" in stderr
    assert "ratedeck emulator: stopped" in stderr and "Traceback" not in stderr


def test_bad_fault_spec_is_one_line_and_exit_2(ratedeck: Path, cli_env, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(ratedeck), "emulator", "--port", "0", "--faults", "429:2,teapot:1"],
        cwd=tmp_path,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("ratedeck: error: unknown fault 'teapot'")


def test_help_lists_every_command(ratedeck: Path, cli_env, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(ratedeck), "--help"], cwd=tmp_path, env=cli_env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    listed = re.findall(r"^ {4}(\w+)\s", done.stdout, re.M)
    assert sorted(listed) == sorted(COMMANDS)


def test_lookup_help_runs(ratedeck: Path, cli_env, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(ratedeck), "lookup", "--help"], cwd=tmp_path, env=cli_env, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: ratedeck lookup") and "NUMBER" in done.stdout
