"""Helpers for the cli_errors tests: ``ratedeck`` in a child process with a clean environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

RATEDECK = str(Path(sys.executable).with_name("ratedeck"))
MARKET_DAY = date(2026, 11, 1)
API_KEY = "cli-errors-key"
# a private user and mount namespace: read-only bind mounts and small tmpfs without root
UNSHARE = ("unshare", "--user", "--map-root-user", "--mount")


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


def namespaces_work() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run([*UNSHARE, "true"], capture_output=True)
    return probe.returncode == 0


def under_mount(mount: str) -> tuple[str, ...]:
    """A wrapper running the CLI after ``mount`` (a shell command) in a private namespace."""
    return (*UNSHARE, "sh", "-c", f'{mount} && exec "$@"', "sh")


def read_only(folder: Path) -> str:
    """The mount command that makes ``folder`` read-only (for root too)."""
    return f"mount --bind {folder} {folder} && mount -o remount,ro,bind {folder}"


def tiny_tmpfs(folder: Path, size: str) -> str:
    """The mount command that puts a tmpfs of ``size`` (``64k``) on ``folder``."""
    return f"mount -t tmpfs -o size={size} tmpfs {folder}"
