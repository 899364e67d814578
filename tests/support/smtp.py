"""A real SMTP server (aiosmtpd) on loopback that records what it accepts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller


class RecordingHandler:
    """aiosmtpd handler keeping every message as (mail_from, rcpt_tos, raw bytes)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.port = 0  # set by recording_smtp

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd hook name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    @property
    def emails(self) -> list[EmailMessage]:
        """The accepted messages, parsed."""
        return [message_from_bytes(raw, policy=policy.default) for _, _, raw in self.messages]

    @property
    def envelopes(self) -> list[tuple[str, list[str]]]:
        return [(mail_from, rcpt_tos) for mail_from, rcpt_tos, _ in self.messages]


def header_lines(raw: bytes, name: str) -> list[bytes]:
    """Header ``name`` as sent (``raw``, CRLF or LF): its first line and any continuation
    lines (a folded header has more than one)."""
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].split(b"\n")
    label = f"{name}:".lower().encode()
    start = next(i for i, line in enumerate(head) if line.lower().startswith(label))
    end = start + 1
    while end < len(head) and head[end][:1] in (b" ", b"\t"):
        end += 1
    return head[start:end]


class KillingHandler(RecordingHandler):
    """SIGKILLs the sending process (``run_until_killed``) during DATA: after recording the message
    (``accept``: the server accepted it, the sender never heard so), or before (nothing
    delivered)."""

    def __init__(self, *, accept: bool = True) -> None:
        super().__init__()
        self.accept = accept
        self.victim: int | None = None
        self.victim_known = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.accept:
            await super().handle_DATA(server, session, envelope)
        self.victim_known.wait(60)
        if self.victim is not None:
            os.kill(self.victim, signal.SIGKILL)
        return "250 OK" if self.accept else "451 never heard"


def run_until_killed(driver: Path, args: list[str], handler: KillingHandler) -> None:
    """``python driver *args`` from the repository, until ``handler`` SIGKILLs it."""
    repo = Path(__file__).resolve().parents[2]
    child = subprocess.Popen(
        [sys.executable, str(driver), *args],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    handler.victim = child.pid
    handler.victim_known.set()
    _, stderr = child.communicate(timeout=300)
    assert child.returncode == -signal.SIGKILL, stderr.decode()


def free_port() -> int:
    """A loopback port nobody listens on right now (aiosmtpd's Controller cannot start on
    port 0: it connects to itself to check)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_smtp(handler: object, **kwargs) -> Controller:
    """A started Controller on a free loopback port; ``kwargs`` go to Controller."""
    for _ in range(5):  # another process may grab the free port in between: try again
        controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
        try:
            controller.start()
        except (OSError, RuntimeError):
            continue
        return controller
    raise RuntimeError("could not start the test SMTP server")


@contextmanager
def running_smtp(handler: object, **kwargs) -> Iterator[Controller]:
    """start_smtp as a context manager: the server stops on exit."""
    controller = start_smtp(handler, **kwargs)
    try:
        yield controller
    finally:
        controller.stop()


@contextmanager
def recording_smtp() -> Iterator[RecordingHandler]:
    """A RecordingHandler whose server runs for the block; ``handler.port`` is its port."""
    handler = RecordingHandler()
    with running_smtp(handler) as controller:
        handler.port = controller.port
        yield handler
