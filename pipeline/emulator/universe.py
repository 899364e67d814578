"""The prefixes a seeded market can ever carry, with their starting prices and increments.

Built from the real numbering plan (``reference.py``). The first ``deck_size`` entries (in a
seeded order: every country first, then mobile groups, then operator ranges and area codes)
are the opening deck; the rest is the pool that daily additions draw from. When the real
plan runs out (benchmarks ask for 100k+ prefixes) leaves are split into number blocks
(``3538994`` -> ``35389940``..``35389949``) carrying the same destination.

Prices are integers in 1e-5 currency units (converted to Decimal at the edge): exact and fast.
"""

from __future__ import annotations

import hashlib
import random
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from pipeline.emulator.reference import (
    AREA,
    MOBILE,
    OPERATOR,
    ROOT,
    NumberingEntry,
    numbering_plan,
)

UNITS_PER_CURRENCY = 100_000
MIN_UNITS = 100  # 0.001 per minute: no price goes below it
SHOWCASE_PREFIX = "35389"  # GET /rates/{tp}/search?prefix=35389 in the Postman collection
INCREMENTS = ((1, 1), (60, 60), (60, 1), (30, 6), (6, 6), (30, 30))
INCREMENT_WEIGHTS = (45, 15, 15, 15, 5, 5)
SPECIAL_FIXED_BANDS = {  # units per minute
    "Satellite": (250_000, 950_000),
    "International Networks": (50_000, 400_000),
    "United States": (400, 1_200),
    "Canada": (400, 1_200),
}
FIXED_BANDS = (
    ((500, 3_000), 35),
    ((3_000, 12_000), 35),
    ((12_000, 40_000), 22),
    ((40_000, 120_000), 8),
)


def quantize_units(units: int) -> int:
    """5 decimals below 0.01 per minute, 4 decimals from there on (half-up)."""
    if units < 1_000:
        return units if units > MIN_UNITS else MIN_UNITS
    return (units + 5) // 10 * 10


def scale_units(units: int, permille: int) -> int:
    return quantize_units((units * permille + 500) // 1000)


class Entry(NamedTuple):
    prefix: str
    destination: str
    kind: str
    parent: str | None  # the nearest enclosing entry of the universe
    units: int  # opening price of the default plan
    initial_seconds: int
    increment_seconds: int
    age_days: int  # how long before the first market day its price took effect

    @property
    def country(self) -> str:
        return self.destination.split(" - ", 1)[0]


def _hash(seed: int, text: str) -> int:
    digest = hashlib.blake2b(f"{seed}:{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


@dataclass(frozen=True, slots=True)
class _Country:
    fixed: int
    mobile_permille: int
    increments: tuple[int, int]


def _country(seed: int, name: str) -> _Country:
    rng = random.Random(f"{seed}:country:{name}")
    if name in SPECIAL_FIXED_BANDS:
        low, high = SPECIAL_FIXED_BANDS[name]
    else:
        bands = [band for band, _ in FIXED_BANDS]
        low, high = rng.choices(bands, [weight for _, weight in FIXED_BANDS])[0]
    increments = rng.choices(INCREMENTS, INCREMENT_WEIGHTS)[0]
    return _Country(rng.randint(low, high), rng.randint(1200, 5000), increments)


def _nearest_parents(prefixes: set[str]) -> dict[str, str | None]:
    parents: dict[str, str | None] = {}
    for prefix in prefixes:
        parents[prefix] = next(
            (prefix[:n] for n in range(len(prefix) - 1, 0, -1) if prefix[:n] in prefixes), None
        )
    return parents


def _priority_order(seed: int, plan: tuple[NumberingEntry, ...]) -> list[NumberingEntry]:
    rng = random.Random(f"{seed}:universe-order")
    roots = sorted((e for e in plan if e.kind == ROOT), key=lambda e: e.prefix)
    groups = sorted((e for e in plan if e.kind == MOBILE), key=lambda e: e.prefix)
    rest = sorted((e for e in plan if e.kind in (OPERATOR, AREA)), key=lambda e: e.prefix)
    rng.shuffle(groups)
    rng.shuffle(rest)
    # the collection's search example (35389: Ireland - Mobile and its operator ranges) opens
    # every deck of a few hundred prefixes or more; the others keep their seeded order
    showcase = sorted(
        (e for e in groups + rest if e.prefix.startswith(SHOWCASE_PREFIX)), key=lambda e: e.prefix
    )
    others = [e for e in groups + rest if not e.prefix.startswith(SHOWCASE_PREFIX)]
    return roots + showcase + others


def _number_blocks(
    ordered: list[NumberingEntry], known: set[str], needed: int
) -> list[NumberingEntry]:
    """Split leaves into ten blocks each, level by level, until ``needed`` new entries exist."""
    blocks: list[NumberingEntry] = []
    level = [e for e in ordered if e.kind in (OPERATOR, AREA)]
    while len(blocks) < needed and level:
        next_level = []
        for entry in level:
            for digit in "0123456789":
                prefix = entry.prefix + digit
                if prefix in known:
                    continue
                known.add(prefix)
                block = NumberingEntry(prefix, entry.destination, entry.kind)
                blocks.append(block)
                next_level.append(block)
                if len(blocks) >= needed:
                    return blocks
        level = next_level
    return blocks


def _opening_selection(
    ordered: list[NumberingEntry], parents: dict[str, str | None], deck_size: int
) -> list[str]:
    """The first ``deck_size`` prefixes in priority order, each with its enclosing ranges."""
    chosen: dict[str, None] = {}
    for entry in ordered:
        if len(chosen) >= deck_size:
            break
        chain = []
        prefix: str | None = entry.prefix
        while prefix is not None and prefix not in chosen:
            chain.append(prefix)
            prefix = parents[prefix]
        if len(chosen) + len(chain) <= deck_size:
            chosen.update(dict.fromkeys(reversed(chain)))
    return list(chosen)


def _price_and_increments(
    seed: int, entry: NumberingEntry, parent: Entry | None, country: _Country
) -> tuple[int, tuple[int, int], int]:
    h = _hash(seed, entry.prefix)
    noise = h % 1000  # three independent-looking draws from one 64-bit hash
    override = (h >> 10) % 100
    age = 30 + (h >> 17) % 900
    if parent is not None and parent.kind == entry.kind:
        units = scale_units(parent.units, 970 + noise % 71)  # a block of its parent
    elif entry.kind == ROOT:
        units = quantize_units(country.fixed)
    elif entry.kind == AREA:
        units = scale_units(country.fixed, 900 + noise % 251)
    elif entry.kind == MOBILE:
        units = scale_units(scale_units(country.fixed, country.mobile_permille), 950 + noise % 151)
    else:
        units = scale_units(scale_units(country.fixed, country.mobile_permille), 850 + noise % 401)
    if parent is not None and override >= 12:
        increments = (parent.initial_seconds, parent.increment_seconds)
    elif override < 6:
        increments = INCREMENTS[(h >> 24) % len(INCREMENTS)]
    else:
        increments = country.increments
    return units, increments, age


class Universe:
    """Prefixes in seeded order; an entry's price is worked out the first time it is needed."""

    def __init__(self, seed: int, deck_size: int) -> None:
        self.seed = seed
        plan = numbering_plan()
        ordered = _priority_order(seed, plan)
        reserve = max(200, deck_size // 10)
        shortfall = deck_size + reserve - len(ordered)
        if shortfall > 0:
            ordered += _number_blocks(ordered, {e.prefix for e in ordered}, shortfall)
        self._plan = {e.prefix: e for e in ordered}
        self._parents = _nearest_parents(set(self._plan))
        self._entries: dict[str, Entry] = {}
        self._countries: dict[str, _Country] = {}
        self.opening: tuple[str, ...] = tuple(_opening_selection(ordered, self._parents, deck_size))
        opened = set(self.opening)
        self.pool: tuple[str, ...] = tuple(e.prefix for e in ordered if e.prefix not in opened)
        operators: dict[str, set[str]] = {}
        for entry in plan:
            if entry.kind == OPERATOR:
                operators.setdefault(entry.country, set()).add(entry.destination.rsplit(" - ")[-1])
        self.operators_by_country = {c: tuple(sorted(names)) for c, names in operators.items()}
        self._by_country: dict[str, tuple[str, ...]] | None = None

    def __contains__(self, prefix: str) -> bool:
        return prefix in self._plan

    def prefixes_by_country(self) -> dict[str, tuple[str, ...]]:
        """Every prefix the market may carry, by country (where the emulated calls go)."""
        if self._by_country is None:
            grouped: dict[str, list[str]] = {}
            for prefix in self.opening + self.pool:
                grouped.setdefault(self._plan[prefix].country, []).append(prefix)
            self._by_country = {c: tuple(sorted(p)) for c, p in grouped.items()}
        return self._by_country

    def entry(self, prefix: str) -> Entry:
        found = self._entries.get(prefix)
        if found is None:
            found = self._entries[prefix] = self._build_entry(prefix)
        return found

    def _build_entry(self, prefix: str) -> Entry:
        item = self._plan[prefix]
        parent_prefix = self._parents[prefix]
        parent = self.entry(parent_prefix) if parent_prefix is not None else None
        country = self._countries.get(item.country)
        if country is None:
            country = self._countries[item.country] = _country(self.seed, item.country)
        units, (initial, increment), age = _price_and_increments(self.seed, item, parent, country)
        return Entry(
            prefix, item.destination, item.kind, parent_prefix, units, initial, increment, age
        )


_universe_lock = threading.Lock()


@lru_cache(maxsize=8)
def _cached_universe(seed: int, deck_size: int) -> Universe:
    return Universe(seed, deck_size)


def build_universe(seed: int, deck_size: int) -> Universe:
    """Shared between markets with the same seed and size (entries are pure functions of both)."""
    with _universe_lock:
        return _cached_universe(seed, deck_size)
