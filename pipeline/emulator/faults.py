"""Faults the emulator injects, parsed from a spec such as ``"429:2@0.01,503:1/download,slow:3.5"``.

Item grammar: ``NAME[:N][xTIMES][@SECONDS][/PATH]``

- ``:N`` how many requests get the fault before normal service resumes (no ``:N``: every
  request). For ``slow`` ``:N`` is the delay in seconds and ``xTIMES`` the request count.
- ``@SECONDS`` the ``Retry-After`` of ``429`` (default 1) and ``503`` (default: none).
- ``/PATH`` only requests whose path contains it (or matches it, if it has ``*?[``).

Items are consumed in order: a request gets the first item that still has requests left and
applies to its path (``slow`` items only delay and let the next item decide), so
``"429:2,503:1"`` answers 429, 429, 503, then normally.
"""

from __future__ import annotations

import fnmatch
import re
import threading
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from pipeline.emulator.errors import FaultSpecError

# name -> what it does (the table in the README is generated from the same words)
FAULTS = {
    "401": "401 text/plain `HTTP Token: Access denied.` whatever the key",
    "404": "404 as for an unknown tech prefix (voice rate paths only)",
    "429": "429 `Retry later` with `Retry-After` (default 1 s; `@S` sets it)",
    "500": "500 JSON error",
    "503": "503 HTML error page (with `Retry-After` when `@S` is given)",
    "slow": "waits `:S` seconds before answering (then the next item or normal service)",
    "reset": "closes the connection abruptly (TCP RST), no response",
    "truncate": "normal headers, but the body stops halfway (Content-Length larger than sent)",
    "html": "200 `text/html` maintenance page instead of the data",
    "empty": 'a deck with the header row only (`{"rates": []}` for the JSON list)',
    "collapse": "a deck with only every 20th row (trips a row-count check)",
    "bad-xls": "`application/vnd.ms-excel` bytes that are not a workbook (downloads only)",
}
_VOICE = re.compile(r"^/rates/(?!sms$)[^/]+(/.*)?$")
_DECK = re.compile(r"^/rates/(?!sms$)[^/]+(/download)?$")
_DOWNLOAD = re.compile(r"^/rates/(?!sms$)[^/]+/download$")
_SCOPES = {"404": _VOICE, "empty": _DECK, "collapse": _DECK, "bad-xls": _DOWNLOAD}
_ITEM = re.compile(
    r"^(?P<name>[0-9]{3}|[a-z]+(?:-[a-z]+)*)"
    r"(?::(?P<arg>[0-9]+(?:\.[0-9]+)?))?"
    r"(?:x(?P<times>[0-9]+))?"
    r"(?:@(?P<retry>[0-9]+(?:\.[0-9]+)?))?"
    r"(?P<path>/\S*)?$"
)
COLLAPSE_KEEP_EVERY = 20


@dataclass(frozen=True, slots=True)
class Fault:
    name: str
    remaining: int | None = None  # requests left; None: every request
    seconds: Decimal | None = None  # slow: the delay
    retry_after: Decimal | None = None  # 429/503: the Retry-After header
    path: str | None = None

    def applies_to(self, path: str) -> bool:
        scope = _SCOPES.get(self.name)
        if scope is not None and not scope.match(path):
            return False
        if self.path is None:
            return True
        if any(c in self.path for c in "*?["):
            return fnmatch.fnmatchcase(path, self.path)
        return self.path in path

    @property
    def retry_after_header(self) -> str | None:
        """Integer seconds when whole (``1``), else the decimal as given (``0.01``)."""
        value = self.retry_after
        if value is None and self.name == "429":
            value = Decimal(1)
        if value is None:
            return None
        return str(int(value)) if value == value.to_integral_value() else format(value, "f")


def _number(text: str, item: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise FaultSpecError(f"bad fault {item!r}: {text!r} is not a number") from None


def parse_fault(item: str) -> Fault:
    m = _ITEM.match(item)
    if m is None:
        raise FaultSpecError(f"bad fault {item!r}: expected NAME[:N][xTIMES][@SECONDS][/PATH]")
    name, arg, times, retry, path = m.group("name", "arg", "times", "retry", "path")
    if name not in FAULTS:
        raise FaultSpecError(f"unknown fault {name!r} in {item!r}: one of {', '.join(FAULTS)}")
    if retry is not None and name not in ("429", "503"):
        raise FaultSpecError(f"bad fault {item!r}: @SECONDS (Retry-After) is for 429 and 503")
    if name == "slow":
        if arg is None:
            raise FaultSpecError(f"bad fault {item!r}: slow needs seconds, e.g. slow:3.5")
        count = int(times) if times is not None else None
        return Fault(name, count, seconds=_number(arg, item), path=path)
    if times is not None:
        raise FaultSpecError(f"bad fault {item!r}: xTIMES is for slow; use NAME:COUNT")
    if arg is not None and "." in arg:
        raise FaultSpecError(f"bad fault {item!r}: the count must be a whole number")
    count = int(arg) if arg is not None else None
    if count == 0:
        raise FaultSpecError(f"bad fault {item!r}: a count of 0 does nothing")
    retry_after = _number(retry, item) if retry is not None else None
    return Fault(name, count, retry_after=retry_after, path=path)


def parse_faults(spec: str | None) -> list[Fault]:
    if spec is None or not spec.strip():
        return []
    return [parse_fault(item.strip()) for item in spec.split(",") if item.strip()]


class FaultPlan:
    """The faults of one server, consumed request by request (thread-safe)."""

    def __init__(self, spec: str | None = None) -> None:
        self._lock = threading.Lock()
        self._faults = parse_faults(spec)
        self.spec = spec or ""

    def __repr__(self) -> str:
        return f"FaultPlan({self.spec!r})"

    def __bool__(self) -> bool:
        with self._lock:
            return any(f.remaining != 0 for f in self._faults)

    def replace(self, spec: str | None) -> None:
        faults = parse_faults(spec)  # parse first: a bad spec leaves the plan as it was
        with self._lock:
            self._faults = faults
            self.spec = spec or ""

    @property
    def pending(self) -> list[Fault]:
        """The faults still to come (``remaining`` counts down as requests consume them)."""
        with self._lock:
            return [f for f in self._faults if f.remaining != 0]

    def take(self, path: str) -> tuple[list[Fault], Fault | None]:
        """The delays and the (at most one) fault that this request gets."""
        delays: list[Fault] = []
        with self._lock:
            for i, fault in enumerate(self._faults):
                if fault.remaining == 0 or not fault.applies_to(path):
                    continue
                if fault.remaining is not None:
                    self._faults[i] = replace(fault, remaining=fault.remaining - 1)
                if fault.name != "slow":
                    return delays, fault
                delays.append(fault)
        return delays, None
