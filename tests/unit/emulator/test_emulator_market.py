from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest

from pipeline.emulator.billing import MICROS_PER_CURRENCY
from pipeline.emulator.history import day_rng
from pipeline.emulator.market import (
    UNKNOWN_NETWORKS,
    DeckRow,
    Market,
    _AccountSimulation,
)
from pipeline.emulator.universe import INCREMENTS
from pipeline.emulator.xls import render_deck


def _by_prefix(rows: list[DeckRow]) -> dict[str, DeckRow]:
    out = {r.prefix: r for r in rows}
    assert len(out) == len(rows), "a current deck has one row per prefix"
    return out


def test_same_seed_and_date_give_identical_bytes(market: Market, start: date) -> None:
    again = Market(seed=7, start_date=start)
    day = start + timedelta(days=5)
    for tp in market.tech_prefixes:
        assert render_deck(market.day(day).voice_deck(tp), "csv") == render_deck(
            again.day(day).voice_deck(tp), "csv"
        )
    assert market.day(day).customer() == again.day(day).customer()
    assert market.day(day).sms_rates("acme", "1") == again.day(day).sms_rates("acme", "1")


def test_another_seed_gives_another_market(market: Market, start: date) -> None:
    other = Market(seed=8, start_date=start)
    assert market.day(start).voice_deck("current") != other.day(start).voice_deck("current")


def test_history_does_not_depend_on_the_order_days_are_asked(start: date) -> None:
    walked = Market(seed=7, start_date=start)
    for offset in range(0, 21):
        walked.day(start + timedelta(days=offset))
    back = walked.day(start + timedelta(days=3)).voice_deck("021001")
    direct = Market(seed=7, start_date=start).day(start + timedelta(days=3)).voice_deck("021001")
    assert back == direct


def test_days_before_the_start_do_not_exist(market: Market, start: date) -> None:
    with pytest.raises(ValueError, match="before the market's first day"):
        market.day(start - timedelta(days=1))


def test_a_year_of_a_3000_row_market_simulates(market: Market, start: date) -> None:
    deck = market.day(start + timedelta(days=365)).voice_deck("current")
    assert 2_500 < len(deck) < 3_600


def test_opening_deck_has_the_requested_size_and_real_destinations(
    market: Market, start: date
) -> None:
    deck = _by_prefix(market.day(start).voice_deck("current"))
    assert len(deck) == 3000
    assert deck["353"].destination == "Ireland - Fixed"
    assert deck["44"].destination == "United Kingdom - Fixed"
    assert deck["1"].destination == "United States - Fixed"
    names = Counter(
        r.destination.split(" - ")[1:2][0] for r in deck.values() if " - " in r.destination
    )
    assert names["Fixed"] > 200 and names["Mobile"] > 300
    assert all(re.fullmatch(r"[0-9]{1,12}", p) for p in deck)


def test_prices_are_exact_decimals_with_at_most_5_places(market: Market, start: date) -> None:
    deck = market.day(start).voice_deck("current")
    assert all(isinstance(r.price, Decimal) and r.price > 0 for r in deck)
    assert all(-r.price.as_tuple().exponent <= 5 for r in deck)
    assert {(r.initial_seconds, r.increment_seconds) for r in deck} <= set(INCREMENTS)
    assert len({r.billing_increments for r in deck}) >= 4


def test_tech_prefixes_are_price_levels_of_the_same_routes(market: Market, start: date) -> None:
    day = market.day(start)
    standard = _by_prefix(day.voice_deck("current"))
    premium = _by_prefix(day.voice_deck("021001"))
    dialer = _by_prefix(day.voice_deck("021002"))
    assert standard.keys() == premium.keys() == dialer.keys()
    higher = sum(premium[p].price > standard[p].price for p in standard)
    lower = sum(dialer[p].price < standard[p].price for p in standard)
    assert higher > 0.9 * len(standard) and lower > 0.9 * len(standard)
    with pytest.raises(KeyError):
        day.voice_deck("999999")


def _price_moves(market: Market, tech_prefix: str, day1: date, day2: date) -> dict[str, str]:
    """Day 2 against day 1 in force, per prefix: up, down, new, removed."""
    before = _by_prefix(market.day(day1).current_rates(tech_prefix))
    after = _by_prefix(market.day(day2).current_rates(tech_prefix))
    moves = {p: "new" for p in after.keys() - before.keys()}
    moves.update({p: "removed" for p in before.keys() - after.keys()})
    for prefix in before.keys() & after.keys():
        old, new = before[prefix].price, after[prefix].price
        if new != old:
            moves[prefix] = "up" if new > old else "down"
    return moves


def test_tech_prefixes_move_independently(market: Market, start: date) -> None:
    """Issue 13: each plan has its own daily moves, not one market at three price levels."""
    day1, day2 = start + timedelta(days=1), start + timedelta(days=2)
    moves = {tp: _price_moves(market, tp, day1, day2) for tp in market.tech_prefixes}
    assert all(len(m) >= 10 for m in moves.values()), {tp: len(m) for tp, m in moves.items()}
    # different prefixes move, and the tallies differ
    assert len({frozenset(m) for m in moves.values()}) == 3
    tallies = {tp: sorted(Counter(m.values()).items()) for tp, m in moves.items()}
    assert len({tuple(t) for t in tallies.values()}) == 3, tallies
    # "current" as its own plan keeps the market's original random stream
    assert market.day(day2).voice_deck("current") == Market(
        7, start, tech_prefixes=("current",)
    ).day(day2).voice_deck("current")


def test_current_is_the_default_tech_prefix_deck(start: date) -> None:
    """Issue 13: "current" is the account's default tech prefix (the API collection: "Use
    current to show default"), the very same deck, not a deck of its own."""
    market = Market(7, start, 400, effective_dates=True, default_tech_prefix="021001")
    for offset in (0, 3):
        day = market.day(start + timedelta(days=offset))
        assert render_deck(day.voice_deck("current"), "csv") == render_deck(
            day.voice_deck("021001"), "csv"
        )
        assert day.current_rates("current") == day.current_rates("021001")
        assert day.voice_deck("current") != day.voice_deck("021002")
    assert market.plan("current") == "021001" and market.plan("021002") == "021002"
    with pytest.raises(ValueError, match="default_tech_prefix must be digits"):
        Market(7, start, 400, default_tech_prefix="current")


def test_prefixes_nest_country_mobile_operator(market: Market, start: date) -> None:
    deck = _by_prefix(market.day(start).voice_deck("current"))
    depth3 = [
        p
        for p in deck
        if sum(p[:n] in deck for n in range(1, len(p))) >= 2
        and deck[p].destination.count(" - ") == 2
    ]
    assert len(depth3) > 100
    example = depth3[0]
    chain = [deck[example[:n]].destination for n in range(1, len(example)) if example[:n] in deck]
    assert chain[0].endswith(" - Fixed")


def test_day_to_day_churn_over_30_days(market: Market, start: date) -> None:
    stats: Counter[str] = Counter()
    previous = _by_prefix(market.day(start).voice_deck("current"))
    for offset in range(1, 31):
        today = _by_prefix(market.day(start + timedelta(days=offset)).voice_deck("current"))
        stats["added"] += len(today.keys() - previous.keys())
        stats["removed"] += len(previous.keys() - today.keys())
        for prefix in today.keys() & previous.keys():
            old, new = previous[prefix], today[prefix]
            stats["increase"] += new.price > old.price
            stats["decrease"] += new.price < old.price
            stats["increments"] += new.billing_increments != old.billing_increments
            stats["renamed"] += new.destination != old.destination
        previous = today
    # ~1% of 3000 rows a day get a price change (some announced, so they land later)
    assert 200 < stats["increase"] + stats["decrease"] < 1_500
    assert stats["increase"] > 50 and stats["decrease"] > 50
    assert stats["added"] > 20 and stats["removed"] > 20
    assert stats["increments"] > 0 and stats["renamed"] > 0


def test_removed_prefixes_never_orphan_nested_ranges(market: Market, start: date) -> None:
    deck = _by_prefix(market.day(start + timedelta(days=60)).voice_deck("current"))
    for prefix in deck:
        parent = market.universe.entry(prefix).parent
        assert parent is None or parent in deck


def test_large_decks_are_padded_with_nested_number_blocks(start: date) -> None:
    big = Market(seed=3, start_date=start, deck_size=40_000, tech_prefixes=("current",))
    deck = _by_prefix(big.day(start).voice_deck("current"))
    assert len(deck) == 40_000
    blocks = [p for p in deck if p[:-1] in deck and deck[p[:-1]].destination == deck[p].destination]
    assert len(blocks) > 1_000


def test_sms_rates_have_unknown_networks_and_move(market: Market, start: date) -> None:
    first = market.day(start).sms_rates("acme", "1")
    later = market.day(start + timedelta(days=10)).sms_rates("acme", "1")
    pairs = {(r.mcc, r.mnc) for r in first}
    assert set(UNKNOWN_NETWORKS) <= pairs
    assert len(first) > 500
    assert all(isinstance(r.rate, Decimal) and r.rate > 0 for r in first)
    before = {(r.mcc, r.mnc): r.rate for r in first}
    moved = [r for r in later if (r.mcc, r.mnc) in before and before[(r.mcc, r.mnc)] != r.rate]
    assert len(moved) > 20
    assert market.day(start).sms_rates("acme", "2") != first


def test_balance_falls_with_usage_and_jumps_on_top_up(market: Market, start: date) -> None:
    days = [market.day(start + timedelta(days=n)) for n in range(90)]
    customers = [d.customer() for d in days]
    balances = [c["balance"] for c in customers]
    assert customers[0]["email"] == "customer@example.com"
    assert all(isinstance(b, Decimal) for b in balances)
    falls = sum(b < a for a, b in zip(balances, balances[1:], strict=False))
    jumps = sum(b > a for a, b in zip(balances, balances[1:], strict=False))
    assert falls > 50 and jumps > 3
    assert isinstance(customers[0]["temporary_credit"], Decimal)


def test_out_of_funds_the_carrier_refuses_calls(market: Market, start: date) -> None:
    """Calls go through while balance + temporary credit > 0 (the last one may overdraw)."""
    refused_days = 0
    for n in range(1, 90):
        before = market.day(start + timedelta(days=n - 1)).customer()
        calls = market.day(start + timedelta(days=n)).calls()
        available = before["balance"] + before["temporary_credit"]  # type: ignore[operator]
        if available <= 0:
            refused_days += 1
            assert calls.carrier_calls == []
            assert {c.disposition for c in calls.switch_calls} == {"FAILED"}
        else:
            costs = [Decimal(c.cost_micros).scaleb(-6) for c in calls.carrier_calls]
            assert available - sum(costs[:-1]) > 0  # every call but the last had funds
    assert refused_days > 0
    assert market.day(start + timedelta(days=89)).calls().switch_calls


def _fixed_spend(seed: int) -> Callable[[date, int], int]:
    """The old daily usage: 15-95 a day while funds last."""

    def spend(day: date, available: int) -> int:
        if available <= 0:
            return 0
        return day_rng(seed, "spend", day.isoformat()).randint(15, 95) * MICROS_PER_CURRENCY

    return spend


def test_balance_runs_out_now_and_then(start: date) -> None:
    out_days = 0
    for seed in range(5):
        sim = _AccountSimulation(seed, _fixed_spend(seed))
        account = sim.opening()
        for n in range(1, 120):
            sim.step(account, start + timedelta(days=n))
            out_days += account.available <= 0
    assert out_days > 0


# --- effective dates -----------------------------------------------------------------------


def _dated_rows(market: Market, day: date) -> dict[tuple[str, date], DeckRow]:
    rows = market.day(day).voice_deck("current")
    keyed = {(r.prefix, r.effective_date): r for r in rows}
    assert len(keyed) == len(rows), "(prefix, effective date) identifies a row"
    return keyed


def test_effective_dates_add_future_rows(dated_market: Market, start: date) -> None:
    day = start + timedelta(days=1)
    rows = dated_market.day(day).voice_deck("current")
    assert all(r.effective_date is not None for r in rows)
    per_prefix = Counter(r.prefix for r in rows)
    doubled = [p for p, n in per_prefix.items() if n == 2]
    assert len(doubled) > 10 and max(per_prefix.values()) == 2
    pair = sorted((r for r in rows if r.prefix == doubled[0]), key=lambda r: r.effective_date)
    assert pair[0].effective_date <= day < pair[1].effective_date
    in_force = [r for r in rows if r.effective_date <= day]
    assert len(in_force) == len(per_prefix)
    assert dated_market.day(day).current_rates("current") == in_force


def test_future_rows_become_current_on_their_date(dated_market: Market, start: date) -> None:
    day = start + timedelta(days=2)
    future = [k for k in _dated_rows(dated_market, day) if k[1] > day]
    landed = 0
    for prefix, effective in future:
        eve = _dated_rows(dated_market, effective - timedelta(days=1))
        if (prefix, effective) not in eve:
            continue  # withdrawn or removed before its date
        announced = eve[(prefix, effective)]
        on_the_day = [
            r for r in dated_market.day(effective).voice_deck("current") if r.prefix == prefix
        ]
        current = [r for r in on_the_day if r.effective_date <= effective]
        assert current == [announced]
        landed += 1
    assert landed > 5


def test_some_changes_come_at_short_notice(dated_market: Market, start: date) -> None:
    short = 0
    for offset in range(1, 15):
        day = start + timedelta(days=offset)
        yesterday = _dated_rows(dated_market, day - timedelta(days=1))
        for key in _dated_rows(dated_market, day):
            if key not in yesterday and day < key[1] <= day + timedelta(days=3):
                short += 1
    assert short > 0


def test_an_announcement_is_withdrawn_before_its_date(dated_market: Market, start: date) -> None:
    withdrawn = []
    for offset in range(0, 30):
        day = start + timedelta(days=offset)
        today, tomorrow = (
            _dated_rows(dated_market, day),
            _dated_rows(dated_market, day + timedelta(days=1)),
        )
        prefixes_tomorrow = {p for p, _ in tomorrow}
        withdrawn += [
            (p, eff)
            for (p, eff) in today
            if eff > day + timedelta(days=1) and (p, eff) not in tomorrow and p in prefixes_tomorrow
        ]
    assert withdrawn


def test_without_effective_dates_the_deck_is_the_rows_in_force(
    market: Market, dated_market: Market, start: date
) -> None:
    day = start + timedelta(days=4)
    plain = market.day(day).voice_deck("021002")
    dated = dated_market.day(day).current_rates("021002")
    assert plain == [r._replace(effective_date=None) for r in dated]
