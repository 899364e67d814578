"""Ctrl-C to a server child, and a diagnosis when it does not stop.

A child started with ``PYTHONFAULTHANDLER=1`` (``FAULTHANDLER_ENV``) prints every thread's
stack on SIGABRT: when it is still running ``timeout`` seconds after SIGINT, the assertion
carries those stacks, so a hang in a full suite says where it hangs. Its stderr is read from
the moment SIGINT is sent, so a child can never block on a full pipe while it stops."""

from __future__ import annotations

import signal
import subprocess
import threading

FAULTHANDLER_ENV = {"PYTHONFAULTHANDLER": "1"}


def interrupt(proc: subprocess.Popen, timeout: float = 20) -> tuple[int, str]:
    """SIGINT to ``proc``; its exit code and all of its stderr once it has exited."""
    assert proc.stderr is not None
    chunks: list[str] = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stderr.read()), daemon=True)
    reader.start()
    proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)
        proc.wait(timeout=10)
        reader.join(timeout=10)
        stacks = "".join(chunks)[-6000:]
        raise AssertionError(
            f"still running {timeout} s after SIGINT; its stderr, thread stacks last:\n{stacks}"
        ) from None
    reader.join(timeout=10)
    return code, "".join(chunks)
