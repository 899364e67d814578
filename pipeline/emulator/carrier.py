"""The emulated carrier's side of a day: what it billed, and the discrepancies it was told to make.

``bill_day`` takes the customer's calls (``calls.py``) in start order and bills each answered
one at the deck in force that day, debiting the available balance (balance plus temporary
credit) by exactly its cost. Once nothing is available the carrier refuses calls: the switch
logs them FAILED and nothing is billed. ``Discrepancies`` (seeded, off by default) make the
carrier and the switch disagree, and each one made is listed in the day's ground truth:

- ``early_price``: calls to a destination billed at its announced price before its date;
- ``extra_seconds``: the carrier measures (and bills) a call a few seconds longer;
- ``missing_on_carrier``: an answered call the carrier never billed;
- ``missing_on_customer``: a call the carrier billed that the switch never logged.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from pipeline.emulator.billing import Rate, RatingDeck, micros_to_decimal, units_to_decimal
from pipeline.emulator.calls import FAILED, Call, CallKey, TrafficModel
from pipeline.emulator.history import day_rng

EARLY_PRICE, EXTRA_SECONDS = "early_price", "extra_seconds"
MISSING_ON_CARRIER, MISSING_ON_CUSTOMER = "missing_on_carrier", "missing_on_customer"
KINDS = (EARLY_PRICE, EXTRA_SECONDS, MISSING_ON_CARRIER, MISSING_ON_CUSTOMER)
EARLY_PRICE_CALLS = (2, 4)  # calls to the destination billed early
EXTRA_SECONDS_RANGE = (1, 20)


@dataclass(frozen=True, slots=True)
class Discrepancies:
    """How many of each discrepancy to make on ``days`` (None: every day)."""

    early_price: int = 0  # destinations
    extra_seconds: int = 0  # calls
    missing_on_carrier: int = 0  # calls
    missing_on_customer: int = 0  # calls
    days: frozenset[date] | None = None

    def __post_init__(self) -> None:
        counts = (
            self.early_price,
            self.extra_seconds,
            self.missing_on_carrier,
            self.missing_on_customer,
        )
        if any(n < 0 for n in counts):
            raise ValueError(f"discrepancy counts must be >= 0, got {self}")

    def on(self, day: date) -> bool:
        return self.days is None or day in self.days


NONE = Discrepancies()


@dataclass(frozen=True, slots=True)
class CarrierCall:
    """One row of the carrier's call export: a call it billed."""

    call_id: str
    call: Call
    rate: Rate  # the price it billed at (the announced one, for an early-price call)
    seconds: int  # the duration it measured
    billed_seconds: int
    cost_micros: int


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One disagreement between the switch and the carrier, as the carrier made it."""

    kind: str
    call: Call
    call_id: str | None  # the carrier's id; None when it never billed the call
    expected_micros: int  # the call at the deck in force, on the switch's seconds
    billed_micros: int  # what the carrier debited (0: not billed)
    details: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        c = self.call
        return {
            "kind": self.kind,
            "call_id": self.call_id,
            "tech_prefix": c.tech_prefix,
            "dialled": c.dialled,
            "number": c.number,
            "start": c.start.isoformat(),
            "billsec": c.billsec,
            "expected_cost": str(micros_to_decimal(self.expected_micros)),
            "billed_cost": str(micros_to_decimal(self.billed_micros)),
            "overbilled": str(micros_to_decimal(self.billed_micros - self.expected_micros)),
            **self.details,
        }


@dataclass(frozen=True)
class CallDay:
    """A day of calls as each side saw it, and what was debited."""

    day: date
    switch_calls: list[Call]  # what the customer's switch logged (Master.csv), start order
    carrier_calls: list[CarrierCall]  # what the carrier billed (its export), start order
    discrepancies: list[Discrepancy]  # the ground truth, in start order
    available_micros: int  # balance plus temporary credit before the day's first call

    @property
    def cost_micros(self) -> int:
        """The day's debit: every carrier row's cost."""
        return sum(c.cost_micros for c in self.carrier_calls)


@dataclass
class _Plan:
    """Which calls get which discrepancy (by call key)."""

    early: dict[CallKey, tuple[Rate, date]] = field(default_factory=dict)
    extra: dict[CallKey, int] = field(default_factory=dict)
    unbilled: set[CallKey] = field(default_factory=set)
    unlogged: set[CallKey] = field(default_factory=set)


def carrier_call_id(seed: int, call: Call) -> str:
    """Stable for a call: the same call has the same id whatever else happened that day."""
    text = f"{seed}:{call.dialled}:{call.start.isoformat()}".encode()
    return str(uuid.UUID(bytes=hashlib.blake2b(text, digest_size=16).digest()))


def bill_day(
    model: TrafficModel,
    decks: Mapping[str, RatingDeck],
    day: date,
    available_micros: int,
    discrepancies: Discrepancies = NONE,
) -> CallDay:
    calls = model.calls(day, decks)
    plan = _Plan()
    if discrepancies.on(day):
        rng = day_rng(model.seed, "discrepancies", day.isoformat())
        calls = _plan_early_prices(model, decks, day, rng, discrepancies.early_price, plan, calls)
        _plan_per_call(rng, calls, discrepancies, plan)
    return _bill(model.seed, decks, day, calls, plan, available_micros)


def _plan_early_prices(
    model: TrafficModel,
    decks: Mapping[str, RatingDeck],
    day: date,
    rng: random.Random,
    count: int,
    plan: _Plan,
    calls: list[Call],
) -> list[Call]:
    """Add a few calls to destinations with an announced increase; bill those at the new price."""
    for _ in range(count):
        taken = {rate.prefix for rate, _effective in plan.early.values()}
        candidates = [c for c in _announced_increases(decks) if c[1] not in taken]
        if not candidates:
            return calls
        tp, prefix = rng.choice(candidates)
        units, effective = decks[tp].announced[prefix]
        in_force = decks[tp].rate(prefix)
        assert in_force is not None
        for _call in range(rng.randint(*EARLY_PRICE_CALLS)):
            call = model.calls_to(rng, day, tp, decks[tp], prefix)
            if call is not None and call.key not in {c.key for c in calls}:
                calls.append(call)
                plan.early[call.key] = (replace(in_force, price_units=units), effective)
    return sorted(calls, key=lambda c: (c.start, c.dialled))


def _announced_increases(decks: Mapping[str, RatingDeck]) -> list[tuple[str, str]]:
    """(tech prefix, prefix) of every row in force with a higher price announced."""
    found = []
    for tp in sorted(decks):
        for prefix, (units, _effective) in sorted(decks[tp].announced.items()):
            rate = decks[tp].rate(prefix)
            if rate is not None and rate.prefix == prefix and units > rate.price_units:
                found.append((tp, prefix))
    return found


def _plan_per_call(rng: random.Random, calls: list[Call], spec: Discrepancies, plan: _Plan) -> None:
    free = [c for c in calls if c.answered and c.key not in plan.early]
    rng.shuffle(free)
    for call in _take(free, spec.extra_seconds):
        plan.extra[call.key] = rng.randint(*EXTRA_SECONDS_RANGE)
    plan.unbilled.update(c.key for c in _take(free, spec.missing_on_carrier))
    plan.unlogged.update(c.key for c in _take(free, spec.missing_on_customer))


def _take(pool: list[Call], count: int) -> list[Call]:
    taken = pool[:count]
    del pool[:count]
    return taken


def _bill(
    seed: int,
    decks: Mapping[str, RatingDeck],
    day: date,
    calls: list[Call],
    plan: _Plan,
    available: int,
) -> CallDay:
    switch, carrier, found = [], [], []
    opening = available
    for call in calls:
        if available <= 0:  # out of funds: the carrier refuses the call
            switch.append(replace(call, disposition=FAILED, ring_seconds=0, billsec=0))
            continue
        if call.key not in plan.unlogged:
            switch.append(call)
        rate = decks[call.tech_prefix].rate(call.number) if call.answered else None
        if rate is None:
            continue
        row, discrepancy = _carrier_row(seed, call, rate, plan)
        if row is not None:
            carrier.append(row)
            available -= row.cost_micros
        if discrepancy is not None:
            found.append(discrepancy)
    return CallDay(day, switch, carrier, found, opening)


def _carrier_row(
    seed: int, call: Call, rate: Rate, plan: _Plan
) -> tuple[CarrierCall | None, Discrepancy | None]:
    """The carrier's row for an answered call (None: not billed) and the discrepancy, if any."""
    expected = rate.cost(call.billsec)
    if call.key in plan.unbilled:
        return None, Discrepancy(MISSING_ON_CARRIER, call, None, expected, 0)
    call_id = carrier_call_id(seed, call)
    billed_rate, seconds = rate, call.billsec
    details: dict[str, object] = {}
    kind = MISSING_ON_CUSTOMER if call.key in plan.unlogged else None
    if call.key in plan.early:
        billed_rate, effective = plan.early[call.key]
        kind = EARLY_PRICE
        details = {
            "prefix": rate.prefix,
            "destination": rate.destination,
            "price_in_force": str(units_to_decimal(rate.price_units)),
            "price_billed": str(units_to_decimal(billed_rate.price_units)),
            "effective_date": effective.isoformat(),
        }
    elif call.key in plan.extra:
        seconds = _longer(rate, call.billsec, plan.extra[call.key])
        kind = EXTRA_SECONDS
        details = {"carrier_seconds": seconds, "extra_seconds": seconds - call.billsec}
    billed = billed_rate.billed(seconds)
    row = CarrierCall(call_id, call, billed_rate, seconds, billed, billed_rate.cost(seconds))
    if kind is None:
        return row, None
    return row, Discrepancy(kind, call, call_id, expected, row.cost_micros, details)


def _longer(rate: Rate, seconds: int, extra: int) -> int:
    """``seconds + extra``, lengthened until it bills more (so the cost shows it too)."""
    while rate.billed(seconds + extra) == rate.billed(seconds):
        extra += 1
    return seconds + extra
