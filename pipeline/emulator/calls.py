"""The customer's calls over the emulated market: seeded, deterministic for (seed, day).

A call centre dials a dozen countries (a few of them most of the time), through the account's
tech prefixes (``current`` is dialled without one), mostly in business hours UTC. About 58%
of the attempts are answered; answered calls are mostly short with a long tail (a lognormal
around 50 s, plus hang-ups of a few seconds), capped at two hours. Each day's traffic spends
a seeded budget (15-95 a day at the deck's prices), so the balance behaves as it always did.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate

from pipeline.emulator.billing import MICROS_PER_CURRENCY, Rate, RatingDeck
from pipeline.emulator.history import day_rng
from pipeline.emulator.reference import ROOT
from pipeline.emulator.universe import Universe

CURRENT = "current"
ANSWERED, NO_ANSWER, BUSY, FAILED = "ANSWERED", "NO ANSWER", "BUSY", "FAILED"
DISPOSITIONS = (ANSWERED, NO_ANSWER, BUSY, FAILED)
DISPOSITION_CUMULATIVE = tuple(accumulate((58, 25, 10, 7)))
RING_SECONDS = {ANSWERED: (2, 25), NO_ANSWER: (15, 60), BUSY: (1, 5), FAILED: (0, 2)}
# share of the day's attempts starting in each UTC hour (a European/US business day)
HOURLY_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 13, 12, 13, 14, 14, 13, 11, 8, 6, 4, 3, 2, 1)
HOURLY_CUMULATIVE = tuple(accumulate(HOURLY_WEIGHTS))
HOURS = tuple(range(24))
DAILY_BUDGET = (15, 95)  # currency units of spend a day
MAX_CALLS_PER_DAY = 1_500  # a busy call centre; on a very cheap deck the budget is not reached
MAX_ATTEMPTS_PER_DAY = 4 * MAX_CALLS_PER_DAY  # a tiny deck may leave numbers unrated
TARGET_COUNTRIES = 12
LONG_TAIL_SHARE = 0.05  # of the calls go to any country the market carries
HANG_UP_SHARE = 0.18  # answered calls hung up within seconds
MEDIAN_SECONDS, SIGMA = 50, 1.1
MAX_CALL_SECONDS = 7_200
AGENTS = 40
# fixed-price outliers no call centre dials in volume
UNDIALLED_COUNTRIES = frozenset({"Satellite", "International Networks"})


CallKey = tuple[str, datetime]  # the dialled string and the start second


@dataclass(frozen=True, slots=True)
class Call:
    """One call attempt as the customer's switch placed it (times UTC, whole seconds)."""

    tech_prefix: str  # ratedeck's name: "current" or the digits
    number: str  # E.164 digits, no tech prefix
    start: datetime
    ring_seconds: int
    billsec: int  # talk time; 0 unless answered
    disposition: str
    agent: int

    @property
    def dial_prefix(self) -> str:
        """What the switch dials before the number: nothing for the default plan."""
        return "" if self.tech_prefix == CURRENT else self.tech_prefix

    @property
    def dialled(self) -> str:
        return self.dial_prefix + self.number

    @property
    def answered(self) -> bool:
        return self.disposition == ANSWERED

    @property
    def answer(self) -> datetime | None:
        return self.start + timedelta(seconds=self.ring_seconds) if self.answered else None

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.ring_seconds + self.billsec)

    @property
    def key(self) -> CallKey:
        """What both sides of the call agree on: the dialled string and the start second."""
        return self.dialled, self.start


class TrafficModel:
    """Where and when the customer calls: fixed by the seed, drawn again for every day."""

    def __init__(self, seed: int, universe: Universe, tech_prefixes: tuple[str, ...]) -> None:
        self.seed = seed
        self._by_country = universe.prefixes_by_country()
        countries = sorted(
            {
                universe.entry(p).country
                for p in universe.opening
                if universe.entry(p).kind == ROOT
                and universe.entry(p).country not in UNDIALLED_COUNTRIES
            }
        )
        self._all_countries = countries or [universe.entry(universe.opening[0]).country]
        rng = day_rng(seed, "traffic", "market")
        chosen = rng.sample(self._all_countries, min(TARGET_COUNTRIES, len(self._all_countries)))
        self._countries = chosen
        # cumulative weights: random.choices does not redo the sums for every draw
        self._country_weights = list(accumulate(1 / (rank + 1) for rank in range(len(chosen))))
        self._tech_prefixes = list(tech_prefixes)
        self._tech_weights = list(accumulate(rng.randint(1, 5) for _ in tech_prefixes))

    def calls(self, day: date, decks: Mapping[str, RatingDeck]) -> list[Call]:
        """The day's attempts in start order; answered ones spend the day's budget."""
        rng = day_rng(self.seed, "traffic", day.isoformat())
        budget = rng.randint(*DAILY_BUDGET) * MICROS_PER_CURRENCY
        spent, calls, seen = 0, list[Call](), set[CallKey]()
        for _attempt in range(MAX_ATTEMPTS_PER_DAY):
            if spent >= budget or len(calls) >= MAX_CALLS_PER_DAY:
                break
            tech_prefix = rng.choices(self._tech_prefixes, cum_weights=self._tech_weights)[0]
            rate, call = self._attempt(rng, day, tech_prefix, decks[tech_prefix])
            if rate is None or call.key in seen:
                continue
            seen.add(call.key)
            calls.append(call)
            spent += rate.cost(call.billsec)
        return sorted(calls, key=lambda c: (c.start, c.dialled))

    def calls_to(
        self, rng: random.Random, day: date, tech_prefix: str, deck: RatingDeck, prefix: str
    ) -> Call | None:
        """One answered call billed by ``prefix`` exactly (not by a longer range under it)."""
        for _attempt in range(20):
            number = _number_under(rng, prefix)
            rate = deck.rate(number)
            if rate is not None and rate.prefix == prefix:
                return self._call(rng, day, tech_prefix, number, ANSWERED)
        return None

    def _attempt(
        self, rng: random.Random, day: date, tech_prefix: str, deck: RatingDeck
    ) -> tuple[Rate | None, Call]:
        number = _number_under(rng, self._destination_prefix(rng))
        disposition = rng.choices(DISPOSITIONS, cum_weights=DISPOSITION_CUMULATIVE)[0]
        call = self._call(rng, day, tech_prefix, number, disposition)
        return deck.rate(number), call

    def _destination_prefix(self, rng: random.Random) -> str:
        if rng.random() < LONG_TAIL_SHARE:
            country = rng.choice(self._all_countries)
        else:
            country = rng.choices(self._countries, cum_weights=self._country_weights)[0]
        return rng.choice(self._by_country[country])

    @staticmethod
    def _call(
        rng: random.Random, day: date, tech_prefix: str, number: str, disposition: str
    ) -> Call:
        hour = rng.choices(HOURS, cum_weights=HOURLY_CUMULATIVE)[0]
        start = datetime.combine(day, time(hour), UTC) + timedelta(seconds=rng.randrange(3600))
        ring = rng.randint(*RING_SECONDS[disposition])
        billsec = _talk_seconds(rng) if disposition == ANSWERED else 0
        return Call(tech_prefix, number, start, ring, billsec, disposition, rng.randrange(AGENTS))


def _talk_seconds(rng: random.Random) -> int:
    if rng.random() < HANG_UP_SHARE:
        return rng.randint(1, 6)
    seconds = round(rng.lognormvariate(math.log(MEDIAN_SECONDS), SIGMA))
    return max(1, min(MAX_CALL_SECONDS, seconds))


def _number_under(rng: random.Random, prefix: str) -> str:
    """A plausible E.164 number in a range: 11 digits under +1, else 10-12 (at most 15)."""
    if prefix.startswith("1"):
        length = max(11, len(prefix) + 3)
    else:
        length = rng.randint(max(10, len(prefix) + 3), max(12, len(prefix) + 3))
    length = min(15, length)
    return prefix + "".join(rng.choices("0123456789", k=max(0, length - len(prefix))))
