"""Helpers for the end-to-end reliability tests: the real ``ratedeck`` CLI in child processes,
a ratedeck.toml and an environment pointing at the emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from support.reliability import API_KEY

REPO = Path(__file__).resolve().parents[2]
RATEDECK = REPO / ".venv" / "bin" / "ratedeck"
CLI_TIMEOUT_S = 300


@dataclass
class Cli:
    """Runs ``ratedeck`` with a config file and an environment pointing at the emulator."""

    config: Path
    env: dict[str, str]
    data_dir: Path

    def command(self, *args: str) -> list[str]:
        command, *rest = args
        executable = (
            [str(RATEDECK)] if RATEDECK.exists() else [sys.executable, "-m", "pipeline.cli"]
        )
        return [*executable, command, "--config", str(self.config), *rest]

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.command(*args),
            env=self.env,
            cwd=self.config.parent,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
        )

    def start(self, *args: str, **kwargs) -> subprocess.Popen:
        return subprocess.Popen(
            self.command(*args),
            env=self.env,
            cwd=self.config.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            **kwargs,
        )


def write_config(path: Path, tech_prefixes: list[str], **api: object) -> Path:
    api_lines = "\n".join(f"{key} = {value!r}" for key, value in api.items())
    path.write_text(
        "[api]\ntimeout_s = 2.0\nmax_retries = 3\nbackoff_s = 0.01\nmax_backoff_s = 0.05\n"
        f"{api_lines}\n"
        f"[voice]\ntech_prefixes = {tech_prefixes!r}\n"
        "[sms]\nchannels = []\n",
        encoding="utf-8",
    )
    return path


def cli_env(base_url: str, data_dir: Path, api_key: str = API_KEY) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RATEDECK_", "COMMPEAK_"))}
    env.pop("DAGSTER_HOME", None)
    env.update(
        COMMPEAK_BASE_URL=base_url,
        COMMPEAK_API_KEY=api_key,
        RATEDECK_DATA_DIR=str(data_dir),
        PYTHONUNBUFFERED="1",
    )
    return env
