"""The emulator plays the carrier: seeded calls, exact costs, the balance they spend, and the
discrepancies it injects, checked against the exported files with brute-force references."""

from __future__ import annotations

import csv
import io
import json
import statistics
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

import pytest

from pipeline.emulator.carrier import Discrepancies
from pipeline.emulator.cdr import (
    CARRIER_HEADER,
    SWITCH_COLUMNS,
    render_carrier_cdrs,
    render_manifest,
    render_switch_cdrs,
    write_carrier_cdrs,
    write_manifest,
    write_switch_cdrs,
)
from pipeline.emulator.market import DeckRow, Market

START = date(2026, 11, 1)
BAD_DAY = date(2026, 11, 3)
TOP_UPS = {Decimal(n) for n in (0, 100, 200, 250, 500, 1000)}
SPEC = Discrepancies(
    early_price=1,
    extra_seconds=3,
    missing_on_carrier=2,
    missing_on_customer=2,
    days=frozenset({BAD_DAY}),
)


@pytest.fixture(scope="module")
def carrier_market() -> Market:
    return Market(seed=21, start_date=START, effective_dates=True, discrepancies=SPEC)


def switch_rows(body: bytes) -> list[dict[str, str]]:
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert all(len(r) == len(SWITCH_COLUMNS) for r in rows)
    return [dict(zip(SWITCH_COLUMNS, r, strict=True)) for r in rows]


def carrier_rows(body: bytes) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(body.decode()))
    assert tuple(reader.fieldnames or ()) == CARRIER_HEADER
    return list(reader)


def utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def brute_rate(deck: list[DeckRow], number: str) -> DeckRow:
    """The longest prefix of ``number`` in the deck, by scanning every row."""
    matches = [r for r in deck if number.startswith(r.prefix)]
    return max(matches, key=lambda r: len(r.prefix))


def brute_cost(price: Decimal, seconds: int, initial: int, increment: int) -> Decimal:
    billed = 0
    if seconds > 0:
        billed = initial
        while billed < seconds:
            billed += increment
    with localcontext() as ctx:
        ctx.prec = 50
        return (price * billed / 60).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def split_dialled(market: Market, dialled: str) -> tuple[str, str]:
    for tp in market.tech_prefixes:
        if tp != "current" and dialled.startswith(tp):
            return tp, dialled[len(tp) :]
    return "current", dialled


def day_files(market: Market, d: date) -> tuple[list[dict], list[dict], dict]:
    calls = market.day(d).calls()
    manifest = json.loads(render_manifest(market, d))
    return (
        switch_rows(render_switch_cdrs(calls)),
        carrier_rows(render_carrier_cdrs([calls])),
        manifest,
    )


# --- the calls ------------------------------------------------------------------------------


def test_calls_are_deterministic_for_seed_and_day() -> None:
    one, two = Market(seed=5, start_date=START), Market(seed=5, start_date=START)
    day = START + timedelta(days=2)
    assert render_switch_cdrs(one.day(day).calls()) == render_switch_cdrs(two.day(day).calls())
    assert render_carrier_cdrs([one.day(day).calls()]) == render_carrier_cdrs(
        [two.day(day).calls()]
    )
    other_day = render_switch_cdrs(one.day(day + timedelta(days=1)).calls())
    other_seed = render_switch_cdrs(Market(seed=6, start_date=START).day(day).calls())
    assert render_switch_cdrs(one.day(day).calls()) not in (other_day, other_seed)


def test_calls_look_like_a_call_centre(carrier_market: Market) -> None:
    day = START + timedelta(days=1)
    rows = switch_rows(render_switch_cdrs(carrier_market.day(day).calls()))
    answered = [r for r in rows if r["disposition"] == "ANSWERED"]
    talk = [int(r["billsec"]) for r in answered]
    assert 100 < len(rows) and 0.4 < len(answered) / len(rows) < 0.8
    assert {"NO ANSWER", "BUSY"} <= {r["disposition"] for r in rows}
    assert all(int(r["billsec"]) == 0 and r["answer"] == "" for r in rows if r not in answered)
    assert statistics.median(talk) < 90 and max(talk) > 600  # many short, a long tail
    assert sum(t <= 6 for t in talk) > len(talk) / 10
    starts = [utc(r["start"]) for r in rows]
    assert starts == sorted(starts) and {s.date() for s in starts} == {day}
    assert sum(9 <= s.hour < 18 for s in starts) > len(starts) / 2  # business hours
    for r in answered:
        start, answer, end = utc(r["start"]), utc(r["answer"]), utc(r["end"])
        assert (end - answer).seconds == int(r["billsec"])
        assert (end - start).seconds == int(r["duration"])
    tech_prefixes = {split_dialled(carrier_market, r["dst"])[0] for r in rows}
    assert tech_prefixes == set(carrier_market.tech_prefixes)


def test_carrier_costs_equal_a_brute_force_decimal_reference(carrier_market: Market) -> None:
    day = START + timedelta(days=1)
    switch, carrier, manifest = day_files(carrier_market, day)
    assert manifest["discrepancies"] == []
    decks = {tp: carrier_market.day(day).current_rates(tp) for tp in carrier_market.tech_prefixes}
    answered = {(r["dst"], r["start"]): r for r in switch if r["disposition"] == "ANSWERED"}
    assert len(carrier) == len(answered) > 50
    for row in carrier:
        tp = row["Tech Prefix"] or "current"
        call = answered[(row["Tech Prefix"] + row["Destination Number"], row["Start Time (UTC)"])]
        rate = brute_rate(decks[tp], row["Destination Number"])
        seconds = int(call["billsec"])
        assert (row["Prefix"], row["Destination"]) == (rate.prefix, rate.destination)
        assert Decimal(row["Rate"]) == rate.price
        assert row["Billing Increments"] == rate.billing_increments
        assert int(row["Duration"]) == seconds
        expected = brute_cost(rate.price, seconds, rate.initial_seconds, rate.increment_seconds)
        assert Decimal(row["Cost"]) == expected, row


def test_balance_moves_by_exactly_the_days_carrier_costs(carrier_market: Market) -> None:
    previous = None
    for n in range(12):
        market_day = carrier_market.day(START + timedelta(days=n))
        cost = sum(
            (Decimal(r["Cost"]) for r in carrier_rows(render_carrier_cdrs([market_day.calls()]))),
            Decimal(0),
        )
        ledger = market_day.ledger()
        assert ledger.cost == cost and ledger.closing == market_day.customer()["balance"]
        assert ledger.top_up in TOP_UPS  # what is not a call is a whole top-up
        if previous is not None:
            assert ledger.opening == previous
            if ledger.top_up == 0:
                assert previous - ledger.closing == cost
        previous = ledger.closing


def test_before_its_top_up_the_balance_has_lost_exactly_the_days_calls(
    carrier_market: Market,
) -> None:
    """What the demo fetches on a top-up day before the top-up: opening - the day's calls."""
    days = [carrier_market.day(START + timedelta(days=n)) for n in range(40)]
    topped_up = [d for d in days if d.ledger().top_up]
    assert topped_up, "no top-up in 40 days: pick another seed"
    for market_day in topped_up:
        ledger = market_day.ledger()
        before = market_day.customer(before_top_up=True)["balance"]
        assert before == ledger.opening - ledger.cost
        assert ledger.closing - before == ledger.top_up
    plain = days[0]
    assert not plain.ledger().top_up
    assert plain.customer(before_top_up=True) == plain.customer()


# --- discrepancies ---------------------------------------------------------------------------


def test_a_day_without_discrepancies_reconciles(carrier_market: Market) -> None:
    switch, carrier, manifest = day_files(carrier_market, BAD_DAY - timedelta(days=1))
    answered = {(r["dst"], r["start"], r["billsec"]) for r in switch if r["billsec"] != "0"}
    billed = {
        (r["Tech Prefix"] + r["Destination Number"], r["Start Time (UTC)"], r["Duration"])
        for r in carrier
    }
    assert answered == billed and manifest["discrepancies"] == []
    assert Decimal(manifest["overbilled"]) == 0


def _reconcile(market: Market, d: date) -> dict[str, set[tuple[str, str]]]:
    """A brute-force reconciler: what the two files disagree on, by kind, keyed (dst, start)."""
    switch, carrier, _manifest = day_files(market, d)
    answered = {(r["dst"], r["start"]): r for r in switch if r["disposition"] == "ANSWERED"}
    billed = {
        (r["Tech Prefix"] + r["Destination Number"], r["Start Time (UTC)"]): r for r in carrier
    }
    found: dict[str, set[tuple[str, str]]] = {
        "missing_on_carrier": set(answered) - set(billed),
        "missing_on_customer": set(billed) - set(answered),
        "extra_seconds": set(),
        "early_price": set(),
    }
    for key in set(answered) & set(billed):
        row = billed[key]
        tp, number = split_dialled(market, key[0])
        if int(row["Duration"]) != int(answered[key]["billsec"]):
            found["extra_seconds"].add(key)
        if Decimal(row["Rate"]) != brute_rate(market.day(d).current_rates(tp), number).price:
            found["early_price"].add(key)
    return found


def test_each_injected_discrepancy_is_in_the_manifest_and_in_the_files(
    carrier_market: Market,
) -> None:
    manifest = json.loads(render_manifest(carrier_market, BAD_DAY))
    listed: dict[str, set[tuple[str, str]]] = {}
    for item in manifest["discrepancies"]:
        start = datetime.fromisoformat(item["start"]).strftime("%Y-%m-%d %H:%M:%S")
        listed.setdefault(item["kind"], set()).add((item["dialled"], start))
    assert {k: len(v) for k, v in listed.items() if k != "early_price"} == {
        "extra_seconds": 3,
        "missing_on_carrier": 2,
        "missing_on_customer": 2,
    }
    assert 2 <= len(listed["early_price"]) <= 4
    assert _reconcile(carrier_market, BAD_DAY) == listed


def test_early_price_is_the_announced_price_of_one_destination(carrier_market: Market) -> None:
    manifest = json.loads(render_manifest(carrier_market, BAD_DAY))
    early = [x for x in manifest["discrepancies"] if x["kind"] == "early_price"]
    assert len({(x["tech_prefix"], x["prefix"]) for x in early}) == 1
    item = early[0]
    deck = carrier_market.day(BAD_DAY).voice_deck(item["tech_prefix"])  # with announced rows
    rows = {(r.prefix, r.effective_date): r.price for r in deck if r.prefix == item["prefix"]}
    effective = date.fromisoformat(item["effective_date"])
    assert effective > BAD_DAY
    assert rows[(item["prefix"], effective)] == Decimal(item["price_billed"])
    assert Decimal(item["price_billed"]) > Decimal(item["price_in_force"])
    assert all(Decimal(x["billed_cost"]) >= Decimal(x["expected_cost"]) for x in early)


def test_manifest_money_adds_up(carrier_market: Market) -> None:
    manifest = json.loads(render_manifest(carrier_market, BAD_DAY))
    items = manifest["discrepancies"]
    assert Decimal(manifest["overbilled"]) == sum(
        Decimal(x["billed_cost"]) - Decimal(x["expected_cost"]) for x in items
    )
    for x in items:
        if x["kind"] == "missing_on_carrier":
            assert x["call_id"] is None and Decimal(x["billed_cost"]) == 0
        if x["kind"] == "extra_seconds":
            assert x["carrier_seconds"] > x["billsec"]
            assert Decimal(x["billed_cost"]) > Decimal(x["expected_cost"])
    assert Decimal(manifest["balance"]["cost"]) == Decimal(manifest["carrier_cost"])


def test_discrepancy_counts_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="must be >= 0"):
        Discrepancies(extra_seconds=-1)


# --- the files --------------------------------------------------------------------------------


def test_writers_write_the_days_files(carrier_market: Market, tmp_path: Path) -> None:
    switch = write_switch_cdrs(carrier_market, BAD_DAY, tmp_path / "asterisk" / "Master.csv")
    carrier = write_carrier_cdrs(carrier_market, START, BAD_DAY, tmp_path / "cdrs.csv")
    truth = write_manifest(carrier_market, BAD_DAY, tmp_path / "truth.json")
    first = switch.read_text().splitlines()[0]
    assert first.startswith('"callcentre","4420795') and first.endswith('"DOCUMENTATION"')
    rows = carrier_rows(carrier.read_bytes())
    assert {r["Start Time (UTC)"][:10] for r in rows} == {
        (START + timedelta(days=n)).isoformat() for n in range(3)
    }
    assert json.loads(truth.read_text())["day"] == BAD_DAY.isoformat()
    assert sorted(p.name for p in tmp_path.rglob("*")) == [
        "Master.csv",
        "asterisk",
        "cdrs.csv",
        "truth.json",
    ]
