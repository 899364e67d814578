"""A seeded, deterministic CommPeak market: voice decks per tech prefix, SMS rates, balance.

Everything is a pure function of ``(seed, start_date, deck_size, date)``: day N is day N-1
plus that day's seeded events, so history is consistent (a price seen on Monday is still
Monday's price when Tuesday is asked for first). Each day about 1% of the rows get a price
change (increases mostly announced 7-14 days ahead, some at 1-3 days' notice; decreases mostly
at once), prefixes are added and removed, now and then increments change, an operator is
rebranded, and an announced change is withdrawn before its date. ``effective_dates=True``
shows announced changes as extra future-dated rows; without it a deck only shows rows in
force, so a change appears on its effective date.

Each tech prefix (pricing plan) is a market of its own: the same numbering and opening routes
at its own price level, then its own seeded daily moves, so decks move independently as real
ones do. ``current`` is not a plan: as in the API collection ("the rates of the default tech
prefix") it is the account's default tech prefix (``default_tech_prefix``), the very same deck.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from pipeline.emulator.billing import (
    MICROS_PER_CURRENCY,
    RatingDeck,
    micros_to_amount,
    micros_to_decimal,
    units_to_decimal,
)
from pipeline.emulator.calls import TrafficModel
from pipeline.emulator.carrier import NONE, CallDay, Discrepancies, bill_day
from pipeline.emulator.history import Bag, History, day_rng
from pipeline.emulator.reference import OPERATOR, ROOT, networks
from pipeline.emulator.universe import (
    INCREMENTS,
    UNITS_PER_CURRENCY,
    Universe,
    build_universe,
    quantize_units,
    scale_units,
)
from pipeline.settings import TECH_PREFIX_RE

DEFAULT_TECH_PREFIXES = ("current", "021001", "021002")
CURRENT = "current"  # the alias of the account's default tech prefix
# CommPeak files rates by pricing model; a plan opens at the standard prices times this
# factor (per mille): standard (current as its own plan), premium, dialer.
PLAN_PERMILLE = {CURRENT: 1000, "021001": 1180, "021002": 870}
CUSTOMER_EMAIL = "customer@example.com"
# (mcc, mnc) pairs no MCC/MNC list knows; the first two are the API collection's own example.
UNKNOWN_NETWORKS = ((9, 210), (10, 210), (999, 99))

PRICE_CHANGE_SHARE = (0.007, 0.013)  # of the rows, per day
ROWS_PER_DAILY_ADD = 250  # up to len/250 additions a day
ROWS_PER_DAILY_REMOVAL = 250
INCREMENT_CHANGE_P = 0.3
REBRAND_P = 0.12
WITHDRAW_P = 0.25
RECENT_ROWS_KEPT = 1_000_000  # recent MarketDays cached: at most 40, fewer for huge decks
CALL_DAYS_KEPT = 40
OPENING_ANNOUNCEMENTS = 150  # one announced change per this many rows on the first day
MOVE_BANDS = ((100, 800), (800, 2_500), (2_500, 6_000))  # basis points
MOVE_WEIGHTS = (70, 25, 5)


class DeckRow(NamedTuple):
    destination: str
    prefix: str
    price: Decimal
    initial_seconds: int
    increment_seconds: int
    effective_date: date | None = None

    @property
    def billing_increments(self) -> str:
        return f"{self.initial_seconds}/{self.increment_seconds}"


class SmsRate(NamedTuple):
    mcc: int
    mnc: int
    rate: Decimal


def plan_permille(tech_prefix: str) -> int:
    """Price level of a tech prefix; unknown digit strings get a stable level of their own."""
    if tech_prefix in PLAN_PERMILLE:
        return PLAN_PERMILLE[tech_prefix]
    digest = hashlib.blake2b(tech_prefix.encode(), digest_size=4).digest()
    return 800 + int.from_bytes(digest, "big") % 500


# --- voice -------------------------------------------------------------------------------

# destination, price units, initial seconds, increment seconds, effective date
_Row = tuple[str, int, int, int, date]


@dataclass(slots=True)
class _VoiceState:
    rows: dict[str, _Row]
    live: Bag
    pool: Bag
    live_children: dict[str, int]
    pending: dict[str, tuple[int, date]]  # announced change: price units, effective date

    def clone(self) -> _VoiceState:
        return _VoiceState(
            self.rows.copy(),
            self.live.copy(),
            self.pool.copy(),
            self.live_children.copy(),
            self.pending.copy(),
        )

    def view(self) -> _VoiceView:
        return _VoiceView(self.rows.copy(), self.pending.copy())


@dataclass(frozen=True, slots=True)
class _VoiceView:
    rows: dict[str, _Row]
    pending: dict[str, tuple[int, date]]


def _moved(units: int, rng: random.Random, up: bool) -> int | None:
    low, high = rng.choices(MOVE_BANDS, MOVE_WEIGHTS)[0]
    bp = rng.randint(low, high)
    new = quantize_units((units * (10_000 + bp if up else 10_000 - bp) + 5_000) // 10_000)
    if new == units:
        step = 10 if units >= 1_000 else 1
        new = quantize_units(units + step if up else units - step)
    return None if new == units else new


def _notice_days(rng: random.Random, up: bool) -> int:
    """Increases are mostly announced a week or two ahead; decreases mostly apply at once."""
    r = rng.random()
    if up:
        if r < 0.75:
            return rng.randint(7, 14)
        return rng.randint(1, 3) if r < 0.92 else 0
    return 0 if r < 0.6 else rng.randint(1, 14)


class _VoiceSimulation:
    """One plan's deck: the shared opening routes at the plan's level, then its own moves."""

    def __init__(self, universe: Universe, seed: int, start: date, plan: str = CURRENT) -> None:
        self.universe, self.seed, self.start = universe, seed, start
        self.permille = plan_permille(plan)
        # the standard plan keeps the market's original random stream (same decks as before)
        self.stream = ("voice",) if plan == CURRENT else ("voice", plan)

    def _units(self, units: int) -> int:
        return units if self.permille == 1000 else scale_units(units, self.permille)

    def initial(self) -> _VoiceState:
        u = self.universe
        rows: dict[str, _Row] = {}
        children: dict[str, int] = {}
        for prefix in u.opening:
            e = u.entry(prefix)
            effective = self.start - timedelta(days=e.age_days)
            rows[prefix] = (
                e.destination,
                self._units(e.units),
                e.initial_seconds,
                e.increment_seconds,
                effective,
            )
            if e.parent is not None:
                children[e.parent] = children.get(e.parent, 0) + 1
        state = _VoiceState(rows, Bag(list(u.opening)), Bag(list(u.pool)), children, {})
        rng = day_rng(self.seed, *self.stream, "opening")
        for _ in range(max(1, len(rows) // OPENING_ANNOUNCEMENTS)):
            prefix = state.live.choice(rng)
            up = rng.random() < 0.6
            new = _moved(rows[prefix][1], rng, up)
            if new is not None and prefix not in state.pending:
                state.pending[prefix] = (new, self.start + timedelta(days=rng.randint(1, 14)))
        return state

    def step(self, state: _VoiceState, day: date) -> None:
        self._apply_due(state, day)
        rng = day_rng(self.seed, *self.stream, day.isoformat())
        if state.pending and rng.random() < WITHDRAW_P:
            del state.pending[rng.choice(list(state.pending))]
        self._change_prices(state, day, rng)
        self._add_prefixes(state, day, rng)
        self._remove_prefixes(state, rng)
        if rng.random() < INCREMENT_CHANGE_P:
            self._change_increments(state, day, rng)
        if rng.random() < REBRAND_P:
            self._rebrand(state, rng)

    @staticmethod
    def _apply_due(state: _VoiceState, day: date) -> None:
        due = [p for p, (_units, effective) in state.pending.items() if effective <= day]
        for prefix in due:
            units, effective = state.pending.pop(prefix)
            destination, _old, initial, increment, _since = state.rows[prefix]
            state.rows[prefix] = (destination, units, initial, increment, effective)

    @staticmethod
    def _change_prices(state: _VoiceState, day: date, rng: random.Random) -> None:
        share = rng.uniform(*PRICE_CHANGE_SHARE)
        for _ in range(max(1, round(len(state.live) * share))):
            prefix = state.live.choice(rng)
            up = rng.random() < 0.5
            destination, units, initial, increment, _since = state.rows[prefix]
            new = _moved(units, rng, up)
            notice = _notice_days(rng, up)
            if new is None or prefix in state.pending:
                continue
            if notice == 0:
                state.rows[prefix] = (destination, new, initial, increment, day)
            else:
                state.pending[prefix] = (new, day + timedelta(days=notice))

    def _add_prefixes(self, state: _VoiceState, day: date, rng: random.Random) -> None:
        for _ in range(rng.randint(0, max(2, len(state.live) // ROWS_PER_DAILY_ADD))):
            for _attempt in range(5):
                if not len(state.pool):
                    return
                entry = self.universe.entry(state.pool.choice(rng))
                if entry.parent is None or entry.parent in state.rows:
                    self._add(state, entry.prefix, day)
                    break

    def _add(self, state: _VoiceState, prefix: str, day: date) -> None:
        """A new range is priced like its parent is priced today (the parent may have moved)."""
        e = self.universe.entry(prefix)
        units = self._units(e.units)
        if e.parent is not None:
            parent_now = state.rows[e.parent][1]
            parent_opening = self.universe.entry(e.parent).units
            units = quantize_units((parent_now * e.units + parent_opening // 2) // parent_opening)
            state.live_children[e.parent] = state.live_children.get(e.parent, 0) + 1
        state.rows[prefix] = (e.destination, units, e.initial_seconds, e.increment_seconds, day)
        state.live.add(prefix)
        state.pool.remove(prefix)

    def _remove_prefixes(self, state: _VoiceState, rng: random.Random) -> None:
        """Only leaves go (never a country), so every remaining range keeps its parents."""
        for _ in range(rng.randint(0, max(2, len(state.live) // ROWS_PER_DAILY_REMOVAL))):
            for _attempt in range(5):
                prefix = state.live.choice(rng)
                entry = self.universe.entry(prefix)
                if entry.kind != ROOT and not state.live_children.get(prefix):
                    del state.rows[prefix]
                    state.pending.pop(prefix, None)
                    state.live.remove(prefix)
                    state.pool.add(prefix)
                    if entry.parent is not None:
                        state.live_children[entry.parent] -= 1
                    break

    @staticmethod
    def _change_increments(state: _VoiceState, day: date, rng: random.Random) -> None:
        for _ in range(rng.randint(1, 3)):
            prefix = state.live.choice(rng)
            destination, units, initial, increment, _since = state.rows[prefix]
            initial, increment = rng.choice([i for i in INCREMENTS if i != (initial, increment)])
            state.rows[prefix] = (destination, units, initial, increment, day)

    def _rebrand(self, state: _VoiceState, rng: random.Random) -> None:
        """An operator is renamed (merger or rebrand): every row carrying its name follows."""
        for _attempt in range(10):
            prefix = state.live.choice(rng)
            if self.universe.entry(prefix).kind == OPERATOR:
                break
        else:
            return
        old = state.rows[prefix][0]
        label, operator = old.rsplit(" - ", 1)
        others = [
            name
            for name in self.universe.operators_by_country.get(old.split(" - ", 1)[0], ())
            if name != operator
        ]
        brand = rng.choice(others) if others else f"{operator} {rng.choice(('Telecom', 'Mobile'))}"
        new = f"{label} - {brand}"
        for p, row in state.rows.items():
            if row[0] == old:
                state.rows[p] = (new, *row[1:])


# --- SMS ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _SmsState:
    rates: dict[tuple[int, int], int]
    live: Bag
    pool: Bag

    def clone(self) -> _SmsState:
        return _SmsState(self.rates.copy(), self.live.copy(), self.pool.copy())

    def view(self) -> list[SmsRate]:
        return [SmsRate(m, n, units_to_decimal(u)) for (m, n), u in sorted(self.rates.items())]


class _SmsSimulation:
    """One SMS channel's price list; every (username, id) is a channel of its own."""

    def __init__(self, seed: int, username: str, channel_id: str) -> None:
        self.key = (seed, "sms", username, channel_id)

    def initial(self) -> _SmsState:
        rng = day_rng(*self.key, "opening")
        known = networks()
        chosen = rng.sample(range(len(known)), rng.randint(len(known) // 3, len(known) // 2))
        seed = self.key[0]
        country_levels: dict[str, int] = {}
        rates: dict[tuple[int, int], int] = {}
        for i in sorted(chosen):
            net = known[i]
            if net.iso not in country_levels:
                country_levels[net.iso] = day_rng(seed, "sms-country", net.iso).randint(300, 9_000)
            rates[(net.mcc, net.mnc)] = scale_units(country_levels[net.iso], rng.randint(900, 1250))
        for pair in UNKNOWN_NETWORKS:
            rates[pair] = quantize_units(rng.randint(2_000, 6_000))
        chosen_pairs = set(rates)
        pool = [(n.mcc, n.mnc) for n in known if (n.mcc, n.mnc) not in chosen_pairs]
        return _SmsState(rates, Bag(list(rates)), Bag(pool))

    def step(self, state: _SmsState, day: date) -> None:
        rng = day_rng(*self.key, day.isoformat())
        for _ in range(max(1, round(len(state.live) * rng.uniform(0.01, 0.03)))):
            pair = state.live.choice(rng)
            new = _moved(state.rates[pair], rng, rng.random() < 0.5)
            if new is not None:
                state.rates[pair] = new
        for _ in range(rng.randint(0, 2)):
            if len(state.pool):
                pair = state.pool.choice(rng)
                state.pool.remove(pair)
                state.live.add(pair)
                state.rates[pair] = quantize_units(rng.randint(300, 9_000))
        if rng.random() < 0.5:
            pair = state.live.choice(rng)
            if pair not in UNKNOWN_NETWORKS:  # kept, so tests can rely on them
                del state.rates[pair]
                state.live.remove(pair)
                state.pool.add(pair)


# --- balance -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Account:
    balance: int  # micros (1e-6): calls debit it by their exact cost
    sms_balance: int  # market units (1e-5)
    temporary_credit: int  # micros

    def clone(self) -> _Account:
        return _Account(self.balance, self.sms_balance, self.temporary_credit)

    @property
    def available(self) -> int:
        """What calls may still spend: the balance plus any temporary credit."""
        return self.balance + self.temporary_credit

    def customer(self) -> dict[str, object]:
        return {
            "email": CUSTOMER_EMAIL,
            "balance": micros_to_amount(self.balance),
            "sms_balance": units_to_decimal(self.sms_balance),
            "temporary_credit": micros_to_amount(self.temporary_credit),
        }


class Ledger(NamedTuple):
    """One day of the voice balance: closing == opening - cost + top_up (exactly)."""

    opening: Decimal  # the balance at the end of the day before (on the first day: funded)
    cost: Decimal  # the sum of the carrier's call export for the day
    top_up: Decimal
    closing: Decimal  # what GET /customer serves that day


class _AccountSimulation:
    """Each day's carrier bill is debited (``spend(day, available)`` -> micros); top-ups come
    when the balance runs low (sometimes too late: then the carrier refuses calls), or, with
    ``top_up_in_time``, on every day that ran out of funds, so the next day has calls."""

    def __init__(
        self, seed: int, spend: Callable[[date, int], int], top_up_in_time: bool = False
    ) -> None:
        self.seed = seed
        self.spend = spend
        self.top_up_in_time = top_up_in_time

    def opening(self) -> _Account:
        rng = day_rng(self.seed, "account", "opening")
        unit, sms_unit = MICROS_PER_CURRENCY, UNITS_PER_CURRENCY
        return _Account(
            rng.randint(250 * unit, 900 * unit), rng.randint(40 * sms_unit, 150 * sms_unit), 0
        )

    def step(self, account: _Account, day: date) -> None:
        rng = day_rng(self.seed, "account", day.isoformat())
        account.balance -= self.spend(day, account.available)
        unit = MICROS_PER_CURRENCY
        ran_out = account.available <= 0
        rescued = ran_out and (self.top_up_in_time or rng.random() < 0.5)
        if rescued or (account.balance < 60 * unit and rng.random() < 0.4):
            account.balance += rng.choice((100, 200, 250, 500, 1000)) * unit
            account.temporary_credit = 0
        elif ran_out and not account.temporary_credit and rng.random() < 0.5:
            account.temporary_credit = rng.choice((25, 50)) * unit
        sms_unit = UNITS_PER_CURRENCY
        account.sms_balance = max(0, account.sms_balance - rng.randint(sms_unit // 2, 6 * sms_unit))
        if account.sms_balance < 15 * sms_unit and rng.random() < 0.5:
            account.sms_balance += rng.choice((50, 100, 200)) * sms_unit


# --- public ------------------------------------------------------------------------------


class Market:
    """The emulated CommPeak account: ``market.day(d)`` is everything the API serves on ``d``."""

    def __init__(
        self,
        seed: int,
        start_date: date,
        deck_size: int = 3000,
        tech_prefixes: tuple[str, ...] | list[str] = DEFAULT_TECH_PREFIXES,
        effective_dates: bool = False,
        default_tech_prefix: str | None = None,
        discrepancies: Discrepancies = NONE,
        top_up_in_time: bool = False,
    ) -> None:
        """``default_tech_prefix``: the account's default plan, which ``current`` serves (the
        same deck, byte for byte); None: ``current`` is a standard plan of its own.
        ``discrepancies``: what the carrier gets wrong, and on which days (none by default);
        part of the market, since what the carrier bills is what the balance loses.
        ``top_up_in_time``: the customer tops up at the end of every day that ran out of funds
        (by default only half the time: the next day the carrier then refuses every call)."""
        if deck_size < 1:
            raise ValueError(f"deck_size must be at least 1, got {deck_size}")
        bad = [tp for tp in tech_prefixes if not TECH_PREFIX_RE.match(str(tp))]
        if bad or not tech_prefixes:
            raise ValueError(f"bad tech prefixes {bad or list(tech_prefixes)!r}")
        if default_tech_prefix is not None and not default_tech_prefix.isdigit():
            raise ValueError(f"default_tech_prefix must be digits, got {default_tech_prefix!r}")
        self.seed = seed
        self.start_date = start_date
        self.deck_size = deck_size
        self.tech_prefixes = tuple(tech_prefixes)
        self.effective_dates = effective_dates
        self.default_tech_prefix = default_tech_prefix
        self.discrepancies = discrepancies
        self.universe = build_universe(seed, deck_size)  # every prefix it may ever carry
        self._voice: dict[str, History] = {}  # plan -> its deck's history, built on first use
        self._voice_lock = threading.Lock()
        self._traffic: TrafficModel | None = None
        self._call_days: OrderedDict[date, CallDay] = OrderedDict()
        self._call_days_lock = threading.Lock()
        self._funding = _AccountSimulation(seed, self._spend, top_up_in_time)
        self._account = History(
            start_date, self._first_day, self._funding.step, _Account.clone, _Account.clone
        )
        self._sms: dict[tuple[str, str], History] = {}
        self._sms_lock = threading.Lock()
        self._recent_days: OrderedDict[date, MarketDay] = OrderedDict()
        self._days_lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"Market(seed={self.seed}, start_date={self.start_date}, deck_size={self.deck_size}, "
            f"tech_prefixes={self.tech_prefixes}, effective_dates={self.effective_dates}, "
            f"default_tech_prefix={self.default_tech_prefix})"
        )

    def plan(self, tech_prefix: str) -> str:
        """The plan whose deck ``tech_prefix`` serves: ``current`` is the default's."""
        if tech_prefix == CURRENT and self.default_tech_prefix is not None:
            return self.default_tech_prefix
        return tech_prefix

    def day(self, d: date) -> MarketDay:
        """Everything served on ``d`` (recent days are kept: a day never changes)."""
        if d < self.start_date:
            raise ValueError(f"{d} is before the market's first day {self.start_date}")
        with self._days_lock:
            cached = self._recent_days.get(d)
            if cached is not None:
                self._recent_days.move_to_end(d)
                return cached
        market_day = MarketDay(self, d)
        with self._days_lock:
            self._recent_days[d] = market_day
            kept = RECENT_ROWS_KEPT // (self.deck_size * len(self.tech_prefixes))
            while len(self._recent_days) > max(2, min(40, kept)):
                self._recent_days.popitem(last=False)
        return market_day

    def _voice_view(self, plan: str, d: date) -> _VoiceView:
        with self._voice_lock:
            history = self._voice.get(plan)
            if history is None:
                sim = _VoiceSimulation(self.universe, self.seed, self.start_date, plan)
                history = History(
                    self.start_date, sim.initial, sim.step, _VoiceState.clone, _VoiceState.view
                )
                self._voice[plan] = history
        return history.at(d)

    def _sms_rates(self, username: str, channel_id: str, d: date) -> list[SmsRate]:
        with self._sms_lock:
            history = self._sms.get((username, channel_id))
            if history is None:
                sim = _SmsSimulation(self.seed, username, channel_id)
                history = History(
                    self.start_date, sim.initial, sim.step, _SmsState.clone, _SmsState.view
                )
                self._sms[(username, channel_id)] = history
        return history.at(d)

    # --- calls and the balance they spend -----------------------------------------------

    def _first_day(self) -> _Account:
        account = self._funding.opening()
        self._funding.step(account, self.start_date)
        return account

    def _account_before(self, d: date) -> _Account:
        """The account at the start of ``d``: the day before's close, or the opening funds."""
        if d == self.start_date:
            return self._funding.opening()
        return self._account.at(d - timedelta(days=1))

    def _rating_decks(self, d: date) -> dict[str, RatingDeck]:
        views = {plan: self._voice_view(plan, d) for plan in map(self.plan, self.tech_prefixes)}
        return {
            tp: RatingDeck(views[self.plan(tp)].rows, views[self.plan(tp)].pending)
            for tp in self.tech_prefixes
        }

    def _traffic_model(self) -> TrafficModel:
        if self._traffic is None:
            self._traffic = TrafficModel(self.seed, self.universe, self.tech_prefixes)
        return self._traffic

    def _call_day(self, d: date, available: int) -> CallDay:
        with self._call_days_lock:
            cached = self._call_days.get(d)
        if cached is not None and cached.available_micros == available:
            return cached
        day = bill_day(
            self._traffic_model(), self._rating_decks(d), d, available, self.discrepancies
        )
        with self._call_days_lock:
            self._call_days[d] = day
            while len(self._call_days) > CALL_DAYS_KEPT:
                self._call_days.popitem(last=False)
        return day

    def _spend(self, d: date, available: int) -> int:
        return self._call_day(d, available).cost_micros

    def _calls(self, d: date) -> CallDay:
        return self._call_day(d, self._account_before(d).available)

    def _customer(self, d: date) -> dict[str, object]:
        return self._account.at(d).customer()

    def _customer_before_top_up(self, d: date) -> dict[str, object]:
        """The account after the day's calls but before the day's top-up (if any): what a
        balance fetch between the two sees. The SMS balance is the day's (nothing reconciles
        it)."""
        before, account = self._account_before(d), self._account.at(d)
        account.balance = before.balance - self._calls(d).cost_micros
        account.temporary_credit = before.temporary_credit
        return account.customer()

    def _ledger(self, d: date) -> Ledger:
        before, after = self._account_before(d), self._account.at(d)
        cost = self._calls(d).cost_micros
        return Ledger(
            micros_to_amount(before.balance),
            micros_to_decimal(cost),
            micros_to_amount(after.balance - before.balance + cost),
            micros_to_amount(after.balance),
        )


class MarketDay:
    """One market day. Decks are built on first use and cached (a day never changes)."""

    def __init__(self, market: Market, day: date) -> None:
        self.market = market
        self.date = day
        self._decks: dict[tuple[str, bool], list[DeckRow]] = {}  # (plan, with future rows)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MarketDay({self.date}, tech_prefixes={self.market.tech_prefixes})"

    @property
    def tech_prefixes(self) -> tuple[str, ...]:
        return self.market.tech_prefixes

    @property
    def effective_dates(self) -> bool:
        return self.market.effective_dates

    def voice_deck(self, tech_prefix: str) -> list[DeckRow]:
        """The downloadable deck, ordered by destination then prefix. With effective dates:
        every row carries its date, and an announced change adds a future-dated row."""
        return self._deck(tech_prefix, self.market.effective_dates)

    def current_rates(self, tech_prefix: str) -> list[DeckRow]:
        """The rows in force today (what ``GET /rates/{tp}`` lists), deck order."""
        return self._deck(tech_prefix, False)

    def search(self, tech_prefix: str, prefix: str) -> list[DeckRow]:
        """Rows in force whose prefix starts with ``prefix``, by prefix."""
        rows = [r for r in self.current_rates(tech_prefix) if r.prefix.startswith(prefix)]
        return sorted(rows, key=lambda r: r.prefix)

    def sms_rates(self, username: str, id: str) -> list[SmsRate]:
        return self.market._sms_rates(username, id, self.date)

    def customer(self, before_top_up: bool = False) -> dict[str, object]:
        """``email``, ``balance``, ``sms_balance``, ``temporary_credit`` (Decimal): at the end
        of the day, or (``before_top_up``) after its calls but before its top-up."""
        if before_top_up:
            return self.market._customer_before_top_up(self.date)
        return self.market._customer(self.date)

    def calls(self) -> CallDay:
        """The day's calls: as the customer's switch logged them, as the carrier billed them,
        and the discrepancies the carrier made (``CallDay``; see ``carrier.py``)."""
        return self.market._calls(self.date)

    def ledger(self) -> Ledger:
        """The voice balance over the day: opening, the carrier's cost, top-up, closing."""
        return self.market._ledger(self.date)

    def _deck(self, tech_prefix: str, with_future: bool) -> list[DeckRow]:
        if tech_prefix not in self.market.tech_prefixes:
            raise KeyError(f"unknown tech prefix {tech_prefix!r}")
        key = (self.market.plan(tech_prefix), with_future)
        with self._lock:
            deck = self._decks.get(key)
            if deck is None:
                deck = self._decks[key] = self._build_deck(*key)
            return deck

    def _build_deck(self, plan: str, with_future: bool) -> list[DeckRow]:
        voice = self.market._voice_view(plan, self.date)
        dated = self.market.effective_dates
        pending = voice.pending if with_future else {}
        price = units_to_decimal  # the plan's units are its own prices

        rows = []
        for prefix, (destination, units, initial, increment, since) in voice.rows.items():
            rows.append(
                DeckRow(
                    destination, prefix, price(units), initial, increment, since if dated else None
                )
            )
            announced = pending.get(prefix)
            if announced is not None:
                rows.append(
                    DeckRow(
                        destination, prefix, price(announced[0]), initial, increment, announced[1]
                    )
                )
        rows.sort(key=lambda r: (r.destination, r.prefix, r.effective_date or date.min))
        return rows
