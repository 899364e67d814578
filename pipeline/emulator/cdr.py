"""The two call exports of an emulated day, and the ground truth of its discrepancies.

- ``render_switch_cdrs``: the customer's Asterisk switch, ``Master.csv`` as ``cdr_csv`` writes
  it with ``usegmtime=yes`` (times UTC): no header, 16 columns, text quoted, numbers bare;
  ``dst`` is the tech prefix and the number as dialled.
- ``render_carrier_cdrs``: CommPeak's portal export of billed calls (``CARRIER_HEADER``).
- ``render_manifest``: the discrepancies the carrier made that day, as JSON.

The ``write_*`` functions write a day's file (atomically: a temporary file, then a rename).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

from pipeline.emulator.billing import micros_to_amount, micros_to_decimal, units_to_decimal
from pipeline.emulator.calls import Call
from pipeline.emulator.carrier import CallDay, CarrierCall
from pipeline.emulator.market import Market

SWITCH_COLUMNS = (
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp",
    "lastdata", "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
)  # fmt: skip
CARRIER_HEADER = (
    "Call ID", "Start Time (UTC)", "Tech Prefix", "Destination Number", "Destination",
    "Prefix", "Duration", "Billed Seconds", "Rate", "Billing Increments", "Cost", "Currency",
)  # fmt: skip
CURRENCY = "USD"
ACCOUNT_CODE = "callcentre"
CALLER_ID = "4420795{agent:05d}"  # the call centre's London DIDs, one per agent
TRUNK = "commpeak"
_TIME = "%Y-%m-%d %H:%M:%S"


def _asterisk_time(moment: datetime | None) -> str:
    return moment.strftime(_TIME) if moment is not None else ""


def switch_row(call: Call, sequence: int) -> list[object]:
    """One ``Master.csv`` line (strings are quoted, duration and billsec are not)."""
    src = CALLER_ID.format(agent=call.agent)
    channel = f"SIP/agent{call.agent:02d}-{2 * sequence:08x}"
    dialled = call.disposition != "FAILED" or call.ring_seconds > 0
    return [
        ACCOUNT_CODE,
        src,
        call.dialled,
        "outbound",
        f'"Agent {call.agent:02d}" <{src}>',
        channel,
        f"SIP/{TRUNK}-{2 * sequence + 1:08x}" if dialled else "",
        "Dial",
        f"SIP/{TRUNK}/{call.dialled},60,T",
        _asterisk_time(call.start),
        _asterisk_time(call.answer),
        _asterisk_time(call.end),
        call.ring_seconds + call.billsec,
        call.billsec,
        call.disposition,
        "DOCUMENTATION",
    ]


def carrier_row(row: CarrierCall) -> list[str]:
    call, rate = row.call, row.rate
    return [
        row.call_id,
        call.start.strftime(_TIME),
        call.dial_prefix,
        call.number,
        rate.destination,
        rate.prefix,
        str(row.seconds),
        str(row.billed_seconds),
        str(units_to_decimal(rate.price_units)),
        f"{rate.initial_seconds}/{rate.increment_seconds}",
        str(micros_to_decimal(row.cost_micros)),
        CURRENCY,
    ]


def render_switch_cdrs(day: CallDay) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    writer.writerows(switch_row(call, n) for n, call in enumerate(day.switch_calls))
    return out.getvalue().encode("utf-8")


def render_carrier_cdrs(days: Iterable[CallDay]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CARRIER_HEADER)
    for day in days:
        writer.writerows(carrier_row(row) for row in day.carrier_calls)
    return out.getvalue().encode("utf-8")


def manifest(market: Market, d: date) -> dict[str, object]:
    """What a reconciler of day ``d`` must find: every discrepancy, and the day's money."""
    market_day = market.day(d)
    calls, ledger = market_day.calls(), market_day.ledger()
    return {
        "day": d.isoformat(),
        "seed": market.seed,
        "switch_calls": len(calls.switch_calls),
        "carrier_calls": len(calls.carrier_calls),
        "carrier_cost": str(micros_to_decimal(calls.cost_micros)),
        "balance": {
            "opening": str(ledger.opening),
            "cost": str(ledger.cost),
            "top_up": str(ledger.top_up),
            "closing": str(ledger.closing),
        },
        "overbilled": str(
            micros_to_amount(sum(x.billed_micros - x.expected_micros for x in calls.discrepancies))
        ),
        "discrepancies": [x.to_json() for x in calls.discrepancies],
    }


def render_manifest(market: Market, d: date) -> bytes:
    return (json.dumps(manifest(market, d), indent=2) + "\n").encode("utf-8")


def _write(path: Path, body: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(body)
    os.replace(temporary, path)
    return path


def write_switch_cdrs(market: Market, d: date, path: Path) -> Path:
    """The customer's ``Master.csv`` for day ``d``."""
    return _write(path, render_switch_cdrs(market.day(d).calls()))


def write_carrier_cdrs(market: Market, first: date, last: date, path: Path) -> Path:
    """The carrier's export of the calls it billed from ``first`` to ``last`` (inclusive)."""
    days = (market.day(date.fromordinal(n)).calls() for n in _ordinals(first, last))
    return _write(path, render_carrier_cdrs(days))


def write_manifest(market: Market, d: date, path: Path) -> Path:
    """The ground truth of day ``d``'s discrepancies (JSON)."""
    return _write(path, render_manifest(market, d))


def _ordinals(first: date, last: date) -> range:
    return range(first.toordinal(), last.toordinal() + 1)
