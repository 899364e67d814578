"""The emulated API as a pure function: ``EmulatorApp.handle(request, fault) -> Response``.

No sockets here (``server.py`` does HTTP), so routing, auth, negotiation and fault bodies are
testable directly. Response shapes, headers and error texts follow the Postman collection.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from pipeline.emulator.cdr import render_carrier_cdrs
from pipeline.emulator.faults import COLLAPSE_KEEP_EVERY, Fault
from pipeline.emulator.market import DeckRow, Market, MarketDay
from pipeline.emulator.protocol import (
    ACCESS_DENIED,
    NotAcceptable,
    negotiate,
    parse_multipart,
    same_secret,
    to_json,
    token_from_authorization,
)
from pipeline.emulator.speech import TASK_TYPES, SpeechTasks, result_document
from pipeline.emulator.xls import MEDIA_TYPES, DeckFormat, malformed_xls, render_deck

JSON_UTF8 = "application/json; charset=utf-8"  # /customer and /rates/{tp} (collection)
JSON_PLAIN = "application/json"  # /rates/sms and /speech (collection)
TEXT_PLAIN = "text/plain; charset=utf-8"
HTML = "text/html; charset=utf-8"
DOWNLOAD_TYPES = (MEDIA_TYPES["csv"], MEDIA_TYPES["xls"])
JSON_TYPES = ("application/json",)
MAINTENANCE_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Scheduled maintenance</title></head>\n"
    b"<body><h1>We'll be back soon</h1><p>The billing portal is under maintenance.</p>"
    b"</body></html>\n"
)
SERVICE_UNAVAILABLE_PAGE = (
    b"<html><head><title>503 Service Temporarily Unavailable</title></head>\n"
    b"<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>\n"
)
RENDER_CACHE_SIZE = 8
CSV_TYPES = ("text/csv",)
MAX_CDR_DAYS = 31  # one request exports at most a month of calls


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the query string
    query: Mapping[str, list[str]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Response:
    status: int
    content_type: str | None = None
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    def all_headers(self) -> list[tuple[str, str]]:
        base = [("Content-Type", self.content_type)] if self.content_type else []
        return base + self.headers


def _json(status: int, document: object, content_type: str = JSON_UTF8) -> Response:
    return Response(status, content_type, to_json(document))


def _error(status: int, message: str) -> Response:
    return _json(status, {"status": status, "error": message})


def access_denied() -> Response:
    return Response(401, TEXT_PLAIN, ACCESS_DENIED)


def fault_response(fault: Fault) -> Response | None:
    """The canned answer of a fault that replaces the response (None: it modifies it)."""
    if fault.name == "401":
        return access_denied()
    if fault.name == "404":
        return _error(404, "Not Found")
    if fault.name == "429":
        return Response(
            429, TEXT_PLAIN, b"Retry later\n", [("Retry-After", fault.retry_after_header or "1")]
        )
    if fault.name == "500":
        return _error(500, "Internal Server Error")
    if fault.name == "503":
        retry = fault.retry_after_header
        return Response(
            503, HTML, SERVICE_UNAVAILABLE_PAGE, [("Retry-After", retry)] if retry else []
        )
    if fault.name == "html":
        return Response(200, HTML, MAINTENANCE_PAGE)
    return None


_ROUTES = [
    ("GET", re.compile(r"^/customer$"), "customer"),
    ("GET", re.compile(r"^/rates/sms$"), "sms_rates"),
    ("GET", re.compile(r"^/rates/(?P<tp>[^/]+)$"), "voice_rates"),
    ("GET", re.compile(r"^/rates/(?P<tp>[^/]+)/search$"), "search"),
    ("GET", re.compile(r"^/rates/(?P<tp>[^/]+)/download$"), "download"),
    ("GET", re.compile(r"^/cdrs$"), "cdrs"),
    ("POST", re.compile(r"^/speech/recognize\.json$"), "recognize"),
    ("GET", re.compile(r"^/speech/result/(?P<id>[^/]+)\.json$"), "speech_result"),
]


class EmulatorApp:
    def __init__(
        self,
        market: Market,
        api_key: str,
        recognition_token: str,
        market_date: date | None = None,
    ) -> None:
        self.market = market
        self._api_key = api_key
        self._recognition_token = recognition_token
        self._lock = threading.Lock()
        self._day = market.day(market_date or market.start_date)
        self._before_top_up = False
        self._rendered: OrderedDict[tuple, bytes] = OrderedDict()
        self.speech = SpeechTasks()

    def __repr__(self) -> str:
        return f"EmulatorApp({self.market!r}, date={self.market_date})"

    @property
    def market_date(self) -> date:
        return self._day.date

    @property
    def market_day(self) -> MarketDay:
        return self._day

    def set_market_date(self, d: date) -> None:
        day = self.market.day(d)  # outside the lock: may simulate many days
        with self._lock:
            self._day = day
            self._before_top_up = False

    def serve_balance_before_top_up(self) -> None:
        """Until the next market date, GET /customer serves the balance after the day's
        calls but before its top-up: a fetch between the two, as an hourly one would be."""
        with self._lock:
            self._before_top_up = True

    # --- dispatch ------------------------------------------------------------------------

    def handle(self, request: Request, fault: Fault | None = None) -> Response:
        if fault is not None:
            canned = fault_response(fault)
            if canned is not None:
                return canned
        route = self._route(request)
        if isinstance(route, Response):
            return route
        handler, params = route
        try:
            return handler(request, params, fault)
        except NotAcceptable as exc:
            return Response(406, TEXT_PLAIN, f"Not Acceptable: {exc}\n".encode())

    def _route(self, request: Request):
        allowed = []
        for method, pattern, name in _ROUTES:
            m = pattern.match(request.path)
            if m is None:
                continue
            if method == request.method:
                return getattr(self, f"_{name}"), m.groupdict()
            allowed.append(method)
        if allowed:
            return Response(
                405, TEXT_PLAIN, b"Method Not Allowed\n", [("Allow", ", ".join(allowed))]
            )
        return _error(404, "Not Found")

    def _authorised(self, request: Request) -> bool:
        token = token_from_authorization(request.header("Authorization"))
        return same_secret(token, self._api_key)

    def _speech_authorised(self, request: Request) -> bool:
        return same_secret(request.header("X-Recognition-Token"), self._recognition_token)

    def _tech_prefix(self, tp: str) -> bool:
        return tp in self.market.tech_prefixes

    # --- endpoints -----------------------------------------------------------------------

    def _customer(self, request: Request, _params: dict, _fault: Fault | None) -> Response:
        if not self._authorised(request):
            return access_denied()
        negotiate(request.header("Accept"), JSON_TYPES)
        return _json(200, {"customer": self._day.customer(self._before_top_up)})

    def _sms_rates(self, request: Request, _params: dict, _fault: Fault | None) -> Response:
        if not self._authorised(request):
            return access_denied()
        negotiate(request.header("Accept"), JSON_TYPES)
        username = (request.param("username") or "").strip()
        if not username:
            return _json(422, {"error": "username is required"}, JSON_PLAIN)
        channel_id = (request.param("id") or "").strip()
        rates = self._day.sms_rates(username, channel_id)
        document = [{"rate": r.rate, "mcc": r.mcc, "mnc": r.mnc} for r in rates]
        return _json(200, document, JSON_PLAIN)

    def _voice_rates(self, request: Request, params: dict, fault: Fault | None) -> Response:
        if not self._authorised(request):
            return access_denied()
        negotiate(request.header("Accept"), JSON_TYPES)
        tp = params["tp"]
        if not self._tech_prefix(tp):
            return _error(404, "Not Found")
        rows = _degrade(self._day.current_rates(tp), fault)
        return _json(200, {"rates": [_rate_json(r) for r in rows]})

    def _search(self, request: Request, params: dict, _fault: Fault | None) -> Response:
        if not self._authorised(request):
            return access_denied()
        negotiate(request.header("Accept"), JSON_TYPES)
        tp = params["tp"]
        if not self._tech_prefix(tp):
            return _error(404, "Not Found")
        prefix = (request.param("prefix") or "").strip().lstrip("+")
        if not prefix.isdigit():
            return _error(422, "prefix must be digits")
        return _json(200, {"rates": [_rate_json(r) for r in self._day.search(tp, prefix)]})

    def _download(self, request: Request, params: dict, fault: Fault | None) -> Response:
        if not self._authorised(request):
            return access_denied()
        media_type = negotiate(request.header("Accept"), DOWNLOAD_TYPES)
        tp = params["tp"]
        if not self._tech_prefix(tp):
            return _error(404, "Not Found")
        fmt: DeckFormat = "xls" if media_type == MEDIA_TYPES["xls"] else "csv"
        filename = f"rates_{tp}_{self._day.date.isoformat()}.{fmt}"
        if fault is not None and fault.name == "bad-xls":
            body, media_type = malformed_xls(), MEDIA_TYPES["xls"]
            filename = filename.rsplit(".", 1)[0] + ".xls"
        else:
            body = self._rendered_deck(tp, fmt, fault.name if fault else None)
        disposition = f"attachment; filename=\"{filename}\"; filename*=UTF-8''{filename}"
        return Response(200, media_type, body, [("Content-Disposition", disposition)])

    def _rendered_deck(self, tp: str, fmt: DeckFormat, degradation: str | None) -> bytes:
        day = self._day
        mode = degradation if degradation in ("empty", "collapse") else None
        key = (day.date, tp, fmt, mode)
        with self._lock:
            cached = self._rendered.get(key)
            if cached is not None:
                self._rendered.move_to_end(key)
                return cached
        rows = _degrade(day.voice_deck(tp), Fault(mode) if mode else None)
        body = render_deck(rows, fmt, effective_dates=self.market.effective_dates)
        with self._lock:
            self._rendered[key] = body
            while len(self._rendered) > RENDER_CACHE_SIZE:
                self._rendered.popitem(last=False)
        return body

    def _cdrs(self, request: Request, _params: dict, _fault: Fault | None) -> Response:
        """The carrier's export of the calls it billed on days ``from``..``to`` (inclusive)."""
        if not self._authorised(request):
            return access_denied()
        negotiate(request.header("Accept"), CSV_TYPES)
        span = self._cdr_days(request.param("from"), request.param("to"))
        if isinstance(span, str):
            return _error(422, span)
        first, last = span
        days = [self.market.day(date.fromordinal(n)).calls() for n in range(first, last + 1)]
        filename = f"cdrs_{date.fromordinal(first)}_{date.fromordinal(last)}.csv"
        disposition = f'attachment; filename="{filename}"'
        return Response(
            200,
            "text/csv; charset=utf-8",
            render_carrier_cdrs(days),
            [("Content-Disposition", disposition)],
        )

    def _cdr_days(self, first_text: str | None, last_text: str | None) -> tuple[int, int] | str:
        """(first, last) day ordinals to export, or why not: at most a month, within the
        market's days up to the one being served (default: that day)."""
        today = self.market_date
        try:
            first = date.fromisoformat(first_text) if first_text else today
            last = date.fromisoformat(last_text) if last_text else first
        except ValueError:
            return "from and to must be dates YYYY-MM-DD"
        if first > last:
            return f"from {first} is after to {last}"
        if first < self.market.start_date or last > today:
            return f"calls exist from {self.market.start_date} to {today}"
        if (last - first).days >= MAX_CDR_DAYS:
            return f"at most {MAX_CDR_DAYS} days per request"
        return first.toordinal(), last.toordinal()

    def _recognize(self, request: Request, _params: dict, _fault: Fault | None) -> Response:
        if not self._speech_authorised(request):
            return access_denied()
        negotiate(request.header("Accept"), JSON_TYPES)
        try:
            form = parse_multipart(request.header("Content-Type"), request.body)
        except ValueError as exc:
            return _json(422, {"errors": {"request": [str(exc)]}}, JSON_PLAIN)
        if "recording" not in form.files:
            return _json(422, {"errors": {"recording": ["can't be blank"]}}, JSON_PLAIN)
        task_type = form.fields.get("task_type") or "transcribe"
        if task_type not in TASK_TYPES:
            return _json(
                422, {"errors": {"task_type": ["is not included in the list"]}}, JSON_PLAIN
            )
        channel = form.fields.get("parse_channel", "0").strip()
        task = self.speech.create(
            form.fields.get("languages", "en"),
            task_type,
            form.fields.get("remote_identifier", ""),
            form.files["recording"][1],
            self._day.date,
            webhook_url=form.fields.get("webhook_url") or None,
            parse_channel=int(channel) if channel in ("0", "1", "2") else 0,
        )
        return _json(201, {"task": {"id": task.id}}, JSON_PLAIN)

    def _speech_result(self, request: Request, params: dict, _fault: Fault | None) -> Response:
        if not self._speech_authorised(request):
            return access_denied()
        negotiate(request.header("Accept"), JSON_TYPES)
        ident = params["id"]
        task = self.speech.get(int(ident)) if ident.isascii() and ident.isdigit() else None
        if task is None:
            return _error(404, "Not Found")
        return _json(200, result_document(task), JSON_PLAIN)


def _rate_json(row: DeckRow) -> dict[str, object]:
    return {"prefix": row.prefix, "destination": row.destination, "price": row.price}


def _degrade(rows: list[DeckRow], fault: Fault | None) -> list[DeckRow]:
    if fault is None:
        return rows
    if fault.name == "empty":
        return []
    if fault.name == "collapse":
        return rows[::COLLAPSE_KEEP_EVERY]
    return rows
