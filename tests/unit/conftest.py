"""Unit tests run in-process: a test that starts a child process or opens a network connection
fails with a message saying so (such a test belongs in tests/integration or tests/e2e)."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

_START_CHILD = subprocess.Popen._execute_child
# platform.architecture(), which Dagster calls when first imported, asks `file` about python
ALLOWED_PROGRAMS = {"file"}


def _fail(what: str):
    # pytest.fail raises a BaseException: no `except Exception` in product code swallows it
    pytest.fail(f"a unit test may not {what}: move it to tests/integration", pytrace=False)


def _start_allowed_child(popen, args, *rest, **kwargs):
    program = args[0] if isinstance(args, list | tuple) else str(args).split()[0]
    if Path(program).name not in ALLOWED_PROGRAMS:
        _fail(f"start a subprocess ({Path(program).name})")
    return _START_CHILD(popen, args, *rest, **kwargs)


def _refuse_connection(*args, **kwargs):
    _fail("open a network connection")


@pytest.fixture(autouse=True)
def in_process_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subprocess.Popen, "_execute_child", _start_allowed_child)
    monkeypatch.setattr(socket.socket, "connect", _refuse_connection)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse_connection)
