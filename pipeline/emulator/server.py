"""The emulator over HTTP: a ThreadingHTTPServer on loopback, in a background thread or in the
foreground (``ratedeck emulator``). Faults that live below HTTP (slow, reset, truncate) are
done here; everything else is ``EmulatorApp``.

    with EmulatorServer(Market(seed=7, start_date=date(2026, 11, 1))) as server:
        requests.get(f"{server.url}/customer", headers={"Authorization": "Token emulator-key"})
        server.set_market_date(date(2026, 11, 2))
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from pipeline.emulator.app import EmulatorApp, Request, Response
from pipeline.emulator.errors import EmulatorError
from pipeline.emulator.faults import FaultPlan
from pipeline.emulator.market import Market
from pipeline.emulator.protocol import redact_headers
from pipeline.settings import is_loopback_host

log = logging.getLogger(__name__)
DEFAULT_API_KEY = "emulator-key"
DEFAULT_RECOGNITION_TOKEN = "emulator-recognition"
MAX_BODY_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RequestRecord:
    method: str
    path: str  # with the query string
    headers: dict[str, str]  # secrets (Authorization, X-Recognition-Token, ...) redacted
    status: int | None  # None: no response was sent (reset)
    fault: str | None  # the fault this request got, if any


class EmulatorServer:
    def __init__(
        self,
        market: Market,
        api_key: str = DEFAULT_API_KEY,
        recognition_token: str = DEFAULT_RECOGNITION_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: str | FaultPlan | None = None,
        market_date: date | None = None,
    ) -> None:
        if not is_loopback_host(host):
            raise EmulatorError(f"the emulator only listens on loopback, not {host!r}")
        self.market = market
        self.app = EmulatorApp(market, api_key, recognition_token, market_date)
        self.faults = faults if isinstance(faults, FaultPlan) else FaultPlan(faults)
        self._host, self._port = host, port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._log: list[RequestRecord] = []
        self._log_lock = threading.Lock()

    def __repr__(self) -> str:  # never the key or token
        state = self.url if self._httpd else "stopped"
        return f"EmulatorServer({state}, date={self.market_date}, faults={self.faults.spec!r})"

    # --- lifecycle -----------------------------------------------------------------------

    def _bind(self) -> None:
        if self._httpd is not None:
            raise EmulatorError("the emulator is already running")
        try:
            self._httpd = _HTTPServer((self._host, self._port), _Handler, self)
        except OSError as exc:
            raise EmulatorError(
                f"cannot listen on {self._host}:{self._port}: {exc.strerror}"
            ) from None
        self._stopping.clear()

    def start(self) -> EmulatorServer:
        """Serve in a background thread; returns at once with ``url`` ready."""
        self._bind()
        assert self._httpd is not None
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            daemon=True,
            name="commpeak-emulator",
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until ``stop()`` (from another thread) or KeyboardInterrupt."""
        if self._httpd is None:
            self._bind()
        assert self._httpd is not None
        try:
            self._httpd.serve_forever(poll_interval=0.2)
        finally:
            self._close()

    def stop(self) -> None:
        self._stopping.set()  # wakes requests sleeping in a slow fault
        httpd = self._httpd
        if httpd is None:
            return
        httpd.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._close()

    def _close(self) -> None:
        if self._httpd is not None:
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what tests and the demo drive ----------------------------------------------------

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise EmulatorError("the emulator is not running")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def market_date(self) -> date:
        return self.app.market_date

    def set_market_date(self, d: date) -> None:
        self.app.set_market_date(d)

    def serve_balance_before_top_up(self) -> None:
        self.app.serve_balance_before_top_up()

    def advance_day(self, days: int = 1) -> date:
        self.set_market_date(self.market_date + timedelta(days=days))
        return self.market_date

    def set_faults(self, spec: str | None) -> None:
        """Replace the faults (a bad spec raises FaultSpecError and changes nothing)."""
        self.faults.replace(spec)

    @property
    def request_log(self) -> list[RequestRecord]:
        with self._log_lock:
            return list(self._log)

    def clear_request_log(self) -> None:
        with self._log_lock:
            self._log.clear()

    def _record(self, record: RequestRecord) -> None:
        with self._log_lock:
            self._log.append(record)
        log.info(
            "%s %s -> %s%s",
            record.method,
            record.path,
            record.status if record.status is not None else "reset",
            f" (fault {record.fault})" if record.fault else "",
        )


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler, emulator: EmulatorServer) -> None:
        self.emulator = emulator
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so clients' connection pools are exercised
    server: _HTTPServer

    def version_string(self) -> str:
        return "CommPeakEmulator/1.0"

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        emulator = self.server.emulator
        url = urlsplit(self.path)
        headers = dict(self.headers.items())
        body = self._read_body()
        if body is None:
            self._send(Response(413, "text/plain; charset=utf-8", b"Request Entity Too Large\n"))
            self.close_connection = True
            return
        delays, fault = emulator.faults.take(url.path)
        for delay in delays:
            assert delay.seconds is not None
            emulator._stopping.wait(float(delay.seconds))
        fault_name = ",".join([d.name for d in delays] + ([fault.name] if fault else [])) or None
        record = RequestRecord(method, self.path, redact_headers(headers), None, fault_name)
        if fault is not None and fault.name == "reset":
            emulator._record(record)
            self._reset()
            return
        request = Request(method, url.path, parse_qs(url.query), headers, body)
        try:
            response = emulator.app.handle(request, fault)
        except Exception:  # a bug must not kill the connection silently: answer 500, log it
            log.exception("emulator error on %s %s", method, self.path)
            response = Response(500, "text/plain; charset=utf-8", b"emulator error\n")
        emulator._record(
            RequestRecord(record.method, record.path, record.headers, response.status, fault_name)
        )
        self._send(response, truncate=fault is not None and fault.name == "truncate")

    def _read_body(self) -> bytes | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, response: Response, truncate: bool = False) -> None:
        body = response.body
        declared = len(body)
        if truncate:
            declared = max(len(body), 16)
            body = body[: len(body) // 2]
            self.close_connection = True
        self.send_response(response.status)
        for name, value in response.all_headers():
            self.send_header(name, value)
        self.send_header("Content-Length", str(declared))
        if truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _reset(self) -> None:
        """Close with SO_LINGER 0: the peer gets a TCP RST instead of an answer."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()
            self.connection.close()
        except OSError:
            pass  # the peer is already gone: the reset it should see has happened
