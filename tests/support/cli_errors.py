"""Helpers for the cli_errors tests: ``ratedeck`` in a child process with a clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

RATEDECK = str(Path(sys.executable).with_name("ratedeck"))
MARKET_DAY = date(2026, 11, 1)
API_KEY = "cli-errors-key"


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RATEDECK_", "COMMPEAK_"))}
    env.pop("DAGSTER_HOME", None)
    env.update(extra)
    return env


def run_ratedeck(*args: str, cwd: Path, prefix: tuple[str, ...] = (), **env: str) -> Finished:
    """``prefix``: a wrapper command (``unshare ...``) the CLI runs under."""
    done = subprocess.run(
        [*prefix, RATEDECK, *args],
        env=cli_env(**env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return Finished(done.returncode, done.stdout, done.stderr)
