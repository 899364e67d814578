"""Fixtures for the reliability tests: a real emulator on loopback, a baseline warehouse built
once per test module (copied for every test), and small real HTTP servers for what the emulator
cannot serve (a custom deck, an endless body)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pytest
from support.reliability import API_KEY, MARKET_START, TECH_PREFIX, make_settings

from pipeline.emulator import EmulatorServer, Market
from pipeline.orchestrate import run_pipeline

DECK_SIZE = 300


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    market = Market(
        seed=11, start_date=MARKET_START, deck_size=DECK_SIZE, tech_prefixes=(TECH_PREFIX,)
    )
    with EmulatorServer(market, api_key=API_KEY) as server:
        yield server


@pytest.fixture
def server(emulator: EmulatorServer) -> EmulatorServer:
    """The module's emulator, back to market day 1, no faults, an empty request log."""
    emulator.set_faults(None)
    emulator.set_market_date(MARKET_START)
    emulator.clear_request_log()
    return emulator


@pytest.fixture(scope="module")
def dagster_instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


@pytest.fixture(scope="module")
def baseline_dir(tmp_path_factory, emulator, dagster_instance) -> Path:
    """A data dir after one clean run (market day 1): a published warehouse with one snapshot."""
    data_dir = tmp_path_factory.mktemp("baseline") / "data"
    emulator.set_faults(None)
    emulator.set_market_date(MARKET_START)
    summary = run_pipeline(
        make_settings(data_dir, emulator.url), ["voice"], instance=dagster_instance
    )
    assert summary.ok, [s.error for s in summary.failures]
    return data_dir


@pytest.fixture
def data_dir(tmp_path, baseline_dir) -> Path:
    """A private copy of the baseline data dir."""
    target = tmp_path / "data"
    shutil.copytree(baseline_dir, target)
    return target


class StaticServer:
    """A loopback HTTP server answering GET /rates/<tp>/download from ``body_for(path)``:
    bytes (sent with Content-Length) or an iterator of chunks (sent chunked, possibly never
    ending). ``sent_bytes`` counts what it managed to write."""

    def __init__(
        self,
        body_for: Callable[[str], bytes | Iterator[bytes]],
        headers: dict[str, str] | None = None,
    ) -> None:
        self.body_for = body_for
        self.headers = headers or {}
        self.sent_bytes = 0
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                outer.requests.append(self.path)
                body = outer.body_for(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/csv")
                for name, value in outer.headers.items():
                    self.send_header(name, value)
                if isinstance(body, bytes):
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    outer.sent_bytes += len(body)
                    return
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for chunk in body:
                        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                        outer.sent_bytes += len(chunk)
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> StaticServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def static_server() -> Iterator[Callable[..., StaticServer]]:
    servers: list[StaticServer] = []

    def start(
        body_for: Callable[[str], bytes | Iterator[bytes]], headers: dict[str, str] | None = None
    ) -> StaticServer:
        server = StaticServer(body_for, headers).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)
