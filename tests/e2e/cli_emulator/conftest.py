"""The installed ``ratedeck`` console script, run in a child process like a user would."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.ctrl_c import FAULTHANDLER_ENV

REPO = Path(__file__).resolve().parents[3]


def _ratedeck_script() -> Path:
    """The console script next to the running interpreter (the venv's), else the repo's venv."""
    for candidate in (Path(sys.executable).with_name("ratedeck"), REPO / ".venv/bin/ratedeck"):
        if candidate.is_file():
            return candidate
    pytest.fail("no ratedeck console script: run `make setup` (pip install -e .)")


@pytest.fixture(scope="session")
def ratedeck() -> Path:
    return _ratedeck_script()


@pytest.fixture
def cli_env() -> dict[str, str]:
    """The caller's environment without any ratedeck/CommPeak setting (tests stay loopback),
    and with Python's fault handler, so that a child that hangs can be made to say where."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMMPEAK_", "RATEDECK_"))}
    return env | FAULTHANDLER_ENV


class Lines:
    """A child's stdout, line by line as it comes (a thread: select() misses buffered lines)."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, args=(proc,), daemon=True).start()

    def _pump(self, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self._queue.put(line)
        self._queue.put("")

    def until(self, last: Callable[[str], bool], timeout: float = 60) -> str:
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no more output after {self.seen!r}") from None
            if not line:
                raise AssertionError(f"the process exited after printing {self.seen!r}")
            self.seen.append(line)
            if last(line):
                return "".join(self.seen)


@pytest.fixture
def spawn(
    ratedeck: Path, cli_env: dict[str, str], tmp_path: Path
) -> Iterator[Callable[..., tuple[subprocess.Popen, Lines]]]:
    """Starts ``ratedeck ARGS`` in tmp_path; kills what is still running at teardown."""
    children: list[subprocess.Popen] = []

    def start(*args: str) -> tuple[subprocess.Popen, Lines]:
        proc = subprocess.Popen(
            [str(ratedeck), *args],
            cwd=tmp_path,
            env=cli_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        children.append(proc)
        return proc, Lines(proc)

    yield start
    for proc in children:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
