"""Helpers for the reconciliation tests (a uniquely named module): an emulated carrier market
with discrepancies, its decks written into a real warehouse as rate history, and one day's
switch CDRs and carrier export imported and costed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from pipeline.emulator import Discrepancies, Market
from pipeline.emulator.cdr import (
    CARRIER_HEADER,
    render_manifest,
    write_carrier_cdrs,
    write_switch_cdrs,
)
from pipeline.settings import Settings
from pipeline.stages.cdr import cost_days, import_file
from pipeline.stages.reconcile import import_carrier_file
from support.cdr import insert_history
from support.reports import DeckHistory, Rate

START = date(2026, 11, 1)
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
WRONG = Discrepancies(
    early_price=1, extra_seconds=3, missing_on_carrier=2, missing_on_customer=2, days=None
)
SPARE = "021009"  # a route with a price change (from 2026-11-02), so that there is an email


def carrier_market(discrepancies: Discrepancies = WRONG) -> Market:
    return Market(
        seed=7, start_date=START, deck_size=300, effective_dates=True, discrepancies=discrepancies
    )


def market_settings(data_dir: Path, market: Market, **reconcile: object) -> Settings:
    return Settings().with_overrides(
        paths={"data_dir": str(data_dir)},
        voice={"tech_prefixes": list(market.tech_prefixes)},
        cdr={"default_tech_prefix": "current"},
        reconcile=dict(reconcile),
    )


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time(), tzinfo=UTC)


def deck_history(market: Market, d: date) -> list[tuple]:
    """The decks of day ``d`` as voice_rate versions: the rows in force since EPOCH (until an
    announced change), each announced row from its effective date."""
    rows = []
    for tp in market.tech_prefixes:
        day = market.day(d)
        announced = {
            r.prefix: r for r in day.voice_deck(tp) if r.effective_date and r.effective_date > d
        }
        for r in day.current_rates(tp):
            later = announced.get(r.prefix)
            until = _midnight(later.effective_date) if later else None
            rows.append((tp, r.prefix, r.destination, str(r.price), r.initial_seconds,
                         r.increment_seconds, EPOCH, until))  # fmt: skip
        for r in announced.values():
            rows.append((tp, r.prefix, r.destination, str(r.price), r.initial_seconds,
                         r.increment_seconds, _midnight(r.effective_date), None))  # fmt: skip
    return rows


def import_day(settings: Settings, market: Market, d: date, folder: Path) -> dict:
    """Write and import day ``d``'s Master.csv and carrier export, cost the day; returns the
    day's manifest (the ground truth)."""
    folder.mkdir(parents=True, exist_ok=True)
    import_file(settings, write_switch_cdrs(market, d, folder / f"Master-{d}.csv"))
    import_carrier_file(settings, write_carrier_cdrs(market, d, d, folder / f"cdrs-{d}.csv"))
    cost_days(settings, [d], who="test")
    return json.loads(render_manifest(market, d))


def load_market_day(settings: Settings, market: Market, d: date, folder: Path) -> dict:
    insert_history(settings, deck_history(market, d))
    return import_day(settings, market, d, folder)


def next_day(d: date) -> date:
    return d + timedelta(days=1)


def balance_snapshots(settings: Settings, market: Market, days: list[date]) -> None:
    """What GET /customer served around each day: the opening the second before the day, the
    top-up at its start (when there is one), the closing at its end."""
    from pipeline.warehouse.db import Warehouse
    from pipeline.warehouse.migrate import read_sql

    moments = []
    for d in days:
        ledger = market.day(d).ledger()
        start = _midnight(d)
        moments.append((start - timedelta(seconds=1), ledger.opening))
        if ledger.top_up:
            moments.append((start, ledger.opening + ledger.top_up))
        moments.append((start + timedelta(hours=23, minutes=59), ledger.closing))
    with Warehouse(settings).writer() as con:
        [(next_id,)] = con.execute("SELECT count(*) + 1 FROM balance_snapshot").fetchall()
        for n, (at, balance) in enumerate(sorted(set(moments))):
            con.execute(
                read_sql("queries/balance_snapshot_insert.sql"),
                [next_id + n, at, "demo@example.com", balance, 0, 0, "x", "raw"],
            )


def emailed_market_day(
    tmp_path: Path, discrepancies: Discrepancies, d: date, **reconcile: object
) -> tuple[Settings, dict, Market]:
    """A warehouse in tmp_path/data with day ``d``'s calls, carrier export and balance, and a
    price change on SPARE for the email to carry; returns its settings, the day's manifest
    and the market."""
    from pipeline.warehouse.db import Warehouse

    market = carrier_market(discrepancies)
    settings = market_settings(tmp_path / "data", market, **reconcile).with_overrides(
        voice={"tech_prefixes": [*market.tech_prefixes, SPARE]}
    )
    manifest = load_market_day(settings, market, d, tmp_path / "in")
    balance_snapshots(settings, market, [d])
    with Warehouse(settings).writer() as con:
        decks = DeckHistory(con)
        decks.snapshot(SPARE, datetime(2026, 11, 1, tzinfo=UTC), [Rate("99", "X", "0.1")])
        decks.snapshot(SPARE, datetime(2026, 11, 2, tzinfo=UTC), [Rate("99", "X", "0.2")])
    return settings, manifest, market


def carrier_export(path: Path, *lines: str) -> Path:
    """The carrier's export (the portal's header, as the emulator writes it) of ``lines``."""
    path.write_text(",".join(CARRIER_HEADER) + "\n" + "".join(lines))
    return path


def carrier_line(
    call_id: str, start: datetime, number: str, seconds: int, billed: int, rate: str, cost: str
) -> str:
    """One row of the carrier's export (no tech prefix: the account's default plan)."""
    stamp = start.strftime("%Y-%m-%d %H:%M:%S")
    return f"{call_id},{stamp},,{number},X,{number[:2]},{seconds},{billed},{rate},1/1,{cost},USD\n"
