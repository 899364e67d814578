"""Loopback HTTP servers for the CommPeak client tests (no mocks).

* ``replay_server``: serves the example responses of the Postman collection
  (``/work/shared/commpeak-api.postman_collection.json``, read at test time; tests skip when it
  is absent) and records every request it receives.
* ``fault_server``: answers from a script of actions (status, reset, hang, truncated, endless)
  so every error path of the client can be driven for real.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import os
import re
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from pipeline.commpeak import CommPeakClient

COLLECTION_PATH = Path(
    os.environ.get("COMMPEAK_COLLECTION", "/work/shared/commpeak-api.postman_collection.json")
)
API_KEY = "rk_test_5ecr3t-API-KEY-0042"
RECOGNITION_TOKEN = "rt_test_5ecr3t-RECOGNITION-0042"
HOP_BY_HOP = {"connection", "content-length", "transfer-encoding", "keep-alive"}


@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def form(self) -> dict[str, tuple[str | None, bytes]]:
        """multipart/form-data fields: name -> (filename, content)."""
        content_type = self.header("Content-Type") or ""
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + self.body
        )
        fields = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            fields[name] = (part.get_filename(), part.get_payload(decode=True))
        return fields


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class LoopbackServer:
    """An http.server on 127.0.0.1:<free port> in a thread; ``answer`` handles each request."""

    def __init__(self, answer: Callable[[BaseHTTPRequestHandler, Recorded], None]):
        self.requests: list[Recorded] = []
        self.release = threading.Event()  # set at teardown: hanging handlers give up
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                record = Recorded(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                with owner._lock:
                    owner.requests.append(record)
                answer(self, record)
                self.close_connection = True

            do_POST = do_PUT = do_DELETE = do_GET

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = _Server(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()


def send(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes = b"",
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    content_length: int | None = None,
) -> None:
    handler.send_response(status)
    items = headers.items() if isinstance(headers, dict) else headers or []
    for name, value in items:
        handler.send_header(name, value)
    handler.send_header(
        "Content-Length", str(len(body) if content_length is None else content_length)
    )
    handler.send_header("Connection", "close")
    handler.end_headers()
    try:
        handler.wfile.write(body)
        handler.wfile.flush()
    except OSError:
        pass  # the client may already have given up


# --------------------------------------------------------------------- collection replay


@dataclass
class Example:
    name: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    accept: str | None


@dataclass
class Route:
    method: str
    template: str  # e.g. /rates/:tech_prefix/search
    pattern: re.Pattern
    examples: list[Example] = field(default_factory=list)


def _url_path(url: str | dict | None) -> str:
    raw = url.get("raw", "") if isinstance(url, dict) else url or ""
    raw = raw.replace("{{baseUrl}}", "https://api.commpeak.com")
    return urlsplit(raw).path


def _headers_of(request: dict) -> dict[str, str]:
    return {
        h["key"].lower(): h.get("value") or ""
        for h in request.get("header") or []
        if not h.get("disabled")
    }


def load_collection_routes(collection: dict) -> list[Route]:
    """Every request of the collection with its example responses, literal paths first."""
    routes = []

    def walk(items: list[dict]) -> None:
        for item in items:
            if "item" in item:
                walk(item["item"])
                continue
            request = item["request"]
            template = _url_path(request["url"])
            regex = re.sub(r":([A-Za-z_]+)", r"(?P<\1>[^/]+?)", re.escape(template))
            route = Route(request["method"], template, re.compile(regex + r"\Z"))
            for response in item.get("response") or []:
                original = response.get("originalRequest") or {}
                accept = _headers_of(original).get("accept") or _headers_of(request).get("accept")
                route.examples.append(
                    Example(
                        name=response["name"],
                        status=int(response["code"]),
                        headers=[
                            (h["key"], h["value"])
                            for h in response.get("header") or []
                            if h["key"].lower() not in HOP_BY_HOP
                        ],
                        body=(response.get("body") or "").encode("utf-8"),
                        accept=accept,
                    )
                )
            routes.append(route)

    walk(collection["item"])
    return sorted(routes, key=lambda r: r.template.count(":"))


class CollectionReplay:
    """Chooses the collection's example for a request: 401 on a wrong key, else by Accept."""

    def __init__(self, collection: dict, api_key: str):
        self.collection = collection
        self.routes = load_collection_routes(collection)
        self.api_key = api_key

    def route_for(self, method: str, path: str) -> Route | None:
        return next((r for r in self.routes if r.method == method and r.pattern.match(path)), None)

    def example(self, route: Route, name: str) -> Example:
        return next(e for e in route.examples if e.name == name)

    def choose(self, record: Recorded) -> Example | None:
        route = self.route_for(record.method, record.path)
        if route is None:
            return None
        denied = [e for e in route.examples if e.status == 401]
        if denied and record.header("Authorization") != f"Token {self.api_key}":
            return denied[0]
        allowed = [e for e in route.examples if e.status != 401]
        accept = record.header("Accept")
        return next((e for e in allowed if e.accept == accept), allowed[0] if allowed else None)

    def answer(self, handler: BaseHTTPRequestHandler, record: Recorded) -> None:
        chosen = self.choose(record)
        if chosen is None:
            send(handler, 404, b"no such route in the collection", {"Content-Type": "text/plain"})
        else:
            send(handler, chosen.status, chosen.body, chosen.headers)


@pytest.fixture(scope="session")
def collection() -> dict:
    if not COLLECTION_PATH.is_file():
        pytest.skip(f"Postman collection not found at {COLLECTION_PATH}")
    return json.loads(COLLECTION_PATH.read_text(encoding="utf-8"))


@pytest.fixture
def replay(collection: dict) -> CollectionReplay:
    return CollectionReplay(collection, API_KEY)


@pytest.fixture
def replay_server(replay: CollectionReplay) -> Iterator[LoopbackServer]:
    server = LoopbackServer(replay.answer)
    yield server
    server.stop()


# --------------------------------------------------------------------- fault server

Action = Callable[[BaseHTTPRequestHandler, "FaultServer"], None]


class FaultServer(LoopbackServer):
    """Answers request n with action n of the script; the last action repeats forever."""

    def __init__(self) -> None:
        self._script: list[Action] = []
        self._served = 0
        super().__init__(self._answer)

    def script(self, *actions: Action) -> FaultServer:
        self._script = list(actions)
        return self

    def _answer(self, handler: BaseHTTPRequestHandler, record: Recorded) -> None:
        with self._lock:
            index = min(self._served, len(self._script) - 1)
            self._served += 1
        self._script[index](handler, self)

    # ---- actions

    @staticmethod
    def respond(
        status: int = 200,
        body: bytes | str = b"",
        headers: dict[str, str] | None = None,
        content_length: int | None = None,
    ) -> Action:
        """A normal answer; ``content_length`` larger than the body simulates truncation."""
        data = body.encode() if isinstance(body, str) else body
        return lambda handler, server: send(handler, status, data, headers, content_length)

    @staticmethod
    def json(doc: object, status: int = 200) -> Action:
        data = json.dumps(doc).encode()
        return FaultServer.respond(status, data, {"Content-Type": "application/json"})

    @staticmethod
    def reset() -> Action:
        """Close the connection with a TCP RST before any answer."""

        def act(handler: BaseHTTPRequestHandler, server: FaultServer) -> None:
            handler.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            handler.connection.close()

        return act

    @staticmethod
    def hang(headers_first: bool = False) -> Action:
        """Say nothing (or only the headers) until the test ends."""

        def act(handler: BaseHTTPRequestHandler, server: FaultServer) -> None:
            if headers_first:
                handler.send_response(200)
                handler.send_header("Content-Type", "text/csv")
                handler.send_header("Content-Length", "1000")
                handler.end_headers()
                handler.wfile.write(b"Destination,Prefix,Price\n")
                handler.wfile.flush()
            server.release.wait(10)

        return act

    @staticmethod
    def endless(content_type: str = "text/csv") -> Action:
        """A chunked body that never ends (until the client hangs up or the test ends)."""

        def act(handler: BaseHTTPRequestHandler, server: FaultServer) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Transfer-Encoding", "chunked")
            handler.send_header("Connection", "close")
            handler.end_headers()
            chunk = b"Somewhere,1234,0.1,1/1\n" * 512
            try:
                for _ in range(20_000):  # ~240 MB safety net
                    if server.release.is_set():
                        break
                    handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                pass  # the client hung up, as it should

        return act


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    server = FaultServer()
    yield server
    server.stop()


@pytest.fixture
def sleeps() -> list[float]:
    """Delays the client asked to sleep (the injected ``sleep`` records instead of sleeping)."""
    return []


@pytest.fixture
def make_client(sleeps: list[float]) -> Iterator[Callable[..., CommPeakClient]]:
    clients: list[CommPeakClient] = []

    def make(base_url: str, **kwargs: object) -> CommPeakClient:
        options: dict = {
            "recognition_token": RECOGNITION_TOKEN,
            "timeout_s": 5,
            "max_retries": 4,
            "backoff_s": 0.5,
            "max_backoff_s": 30,
            "sleep": sleeps.append,
        }
        options.update(kwargs)
        api_key = options.pop("api_key", API_KEY)
        client = CommPeakClient(base_url, api_key, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def api_key() -> str:
    return API_KEY


@pytest.fixture
def recognition_token() -> str:
    return RECOGNITION_TOKEN
