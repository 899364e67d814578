"""``ratedeck`` as a user runs it: the installed command in a subprocess, a data dir in tmp.

The full demo takes a while (two market days, fourteen Dagster runs): it runs once per module
(``first_demo``, started when a test first asks for it, awaited with ``.result()``), and the
other commands' tests live in another file, which ``pytest -n 2 --dist loadfile`` runs beside it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

RATEDECK = str(Path(sys.executable).with_name("ratedeck"))
DEMO_DECK_SIZE = 400
TIMEOUT_S = 600


def cli_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any ratedeck/CommPeak setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RATEDECK_", "COMMPEAK_"))}
    env.pop("DAGSTER_HOME", None)
    env.update(extra)
    return env


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str


class Background:
    """A ``ratedeck`` subprocess started now; ``.result()`` waits for it."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [RATEDECK, *args],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._finished: Finished | None = None

    def result(self) -> Finished:
        if self._finished is None:
            out, err = self.process.communicate(timeout=TIMEOUT_S)
            self._finished = Finished(self.process.returncode, out, err)
        return self._finished

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


@pytest.fixture(scope="session")
def ratedeck():
    """``ratedeck(*args, cwd=..., **env)`` runs the command to the end."""

    def run(*args: str, cwd: Path, **env: str) -> Finished:
        done = subprocess.run(
            [RATEDECK, *args],
            env=cli_env(**env),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
        return Finished(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("demo") / "data"


@pytest.fixture(scope="module")
def first_demo(demo_dir: Path) -> Iterator[Background]:
    """``ratedeck demo --deck-size 400`` with the built-in settings, running in the background."""
    cwd = demo_dir.parent
    run = Background(
        ["demo", "--deck-size", str(DEMO_DECK_SIZE)],
        cli_env(RATEDECK_DATA_DIR=str(demo_dir)),
        cwd,
    )
    yield run
    run.stop()
