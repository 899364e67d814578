"""``ratedeck demo``: the whole pipeline, end to end, on the built-in emulator, two market days
(``--days N``: N consecutive days ending today).

Day 1 (yesterday's market) is the baseline; day 2 (today's) brings price changes, announced
(future-dated) changes and a short-notice increase, so the finance email has something to say.
With ``--days N`` the days end today and day 1 is N-1 days ago; days 3 and on continue the
same market (its moves, SMS, balance and calls) and reconcile, and each day from day 2 on
sends the finance email of its own changes.
The market is a pure function of (seed, dates), and its daily events depend on the date: unless
``--seed`` is given, the demo takes the first seed from ``emulator.seed`` on whose day 2 the
market announces a change and an increase at short notice (checked on the decks, before any
download), so every run shows both.

The customer's calls play along (docs/cdr.md#reconciliation): each day the demo imports the
switch's Master.csv and the carrier's export of the day and costs them; on day 2 the emulated
carrier bills some calls wrongly (``DEMO_DISCREPANCIES``), so day 1 reconciles and day 2 does
not, and the day-2 email says so. On a day whose balance the carrier tops up, the balance is
fetched after the day's calls and again after the top-up (as the hourly balance job would):
with one fetch a day, the top-up would net out against the spend and the day not reconcile. The market opens the day before day 1 (day 0), whose
balance is fetched first: the balance before day 1's calls.

Both days run within minutes, but the demo stamps each day's fetches with a demo clock that
starts at the beginning of its market day (UTC) and says so: the history spans real days (a
balance runway over a real day of spending, calls of yesterday that can be costed).
The emulated account's default tech prefix is 021001, as in the API collection, so "current"
serves 021001's deck: the pipeline loads it once and records the alias.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from pipeline import clock, console, demo_data
from pipeline.commands.run import execute, print_summary, raise_if_failed, summary_document
from pipeline.errors import ConfigError, InputError
from pipeline.settings import Settings

if TYPE_CHECKING:
    from pipeline.emulator.market import Market

DEMO_OUTPUTS = (
    "raw", "staging", "state", "outbox", "reports", "dagster_home", "rejects", "cdr",
)  # fmt: skip
DEMO_EMULATOR_KEY = "demo-emulator-key"
SEED_TRIES = 100  # seeds tried from the default before settling for it
# the emulated account's default tech prefix, which "current" serves (the API collection's)
DEFAULT_TECH_PREFIX = "021001"
MIN_DECK_SIZE, MAX_DECK_SIZE = 10, 2_000_000  # as emulator.deck_size
DEFAULT_DAYS = 2
# a month of history; each day is a full pipeline run (seven Dagster runs, seconds to a minute),
# so more is a benchmark rather than a demo, and the emulator keeps 40 recent days in memory
MAX_DAYS = 31
# what the emulated carrier gets wrong on day 2: enough calls billed that the switch never made
# to put the day's balance spend well beyond a 2% tolerance of the costed calls
DEMO_DISCREPANCIES = {
    "early_price": 2, "extra_seconds": 5, "missing_on_carrier": 3, "missing_on_customer": 25,
}  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--deck-size", type=int, help="prefixes per tech prefix (default: settings)"
    )
    parser.add_argument(
        "--seed",
        type=int,
        help="market seed, used as given (default: the first seed from emulator.seed whose "
        "second day shows an announced change and a short-notice increase)",
    )
    parser.add_argument(
        "--days",
        type=int,
        default=DEFAULT_DAYS,
        help=f"market days to run, ending today (default: {DEFAULT_DAYS}; 1..{MAX_DAYS}): day 1 "
        "is the baseline, day 2 has the carrier's billing errors, later days reconcile",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    deck_size = demo_deck_size(args, settings)
    day_count = demo_day_count(args)
    prepare_data_dir(settings)  # before the heavy imports: a refusal is instant
    try:
        return _run_demo(args, settings, deck_size, demo_days(day_count))
    finally:
        demo_data.release(settings.data_dir)  # later writes here are not the demo's


def _run_demo(
    args: argparse.Namespace, settings: Settings, deck_size: int, days: tuple[date, ...]
) -> int:
    # heavy imports (Dagster) only when the command runs: keeps `ratedeck --help` fast
    from pipeline.emulator.server import EmulatorServer
    from pipeline.orchestrate import persistent_instance
    from pipeline.reports import report_and_send
    from pipeline.warehouse.db import Warehouse

    tech_prefixes = tuple(settings.voice.tech_prefixes)
    seed = args.seed
    if seed is None:
        seed = showcase_seed(
            settings.emulator.seed,
            showcase_days(days[0]),
            deck_size=deck_size,
            tech_prefixes=tech_prefixes,
            notice_days=settings.report.notice_days,
        )
    market = demo_market(seed, days[0], deck_size, tech_prefixes)
    api_key = (
        settings.secrets.api_key.get_secret_value()
        if settings.secrets.api_key
        else DEMO_EMULATOR_KEY
    )
    document: dict = {"ok": False, "seed": seed, "deck_size": deck_size, "days": []}
    instance = persistent_instance(settings)  # one for all days: opening it takes seconds
    emails: list[Path] = []  # the finance emails the demo sent, in order
    with EmulatorServer(market, api_key=api_key) as server:
        demo_settings = _emulator_settings(settings, server.url, api_key)
        started = datetime.now(UTC)
        _opening_balance(demo_settings, server, instance, days[0] - timedelta(days=1), started)
        for number, market_day in enumerate(days, start=1):
            label = day_label(number)
            server.set_market_date(market_day)
            # the clock runs on from the day's start: day 2's fetches come a day and a bit
            # after day 1's, never less than a day (a runway window is a whole day)
            stamp = demo_clock_start(market_day) + (datetime.now(UTC) - started)
            _say(
                args,
                f"ratedeck demo: {label}: market of {market_day} (seed {seed}), "
                f"fetched as of {stamp:%Y-%m-%d %H:%M:%S} UTC (demo clock)",
            )
            with clock.running_from(stamp):
                _balance_before_top_up(args, demo_settings, server, instance, label)
                # day 1's run reports (nothing: the baseline); from day 2 on the email comes
                # after the day's calls, so it reconciles them too
                _run_day(args, demo_settings, instance, label, market_day, document, number == 1)
                _import_calls(demo_settings, market, market_day)
                email = None
                if number > 1:
                    delivery = report_and_send(Warehouse(demo_settings), demo_settings)
                    email = Path(delivery.target) if delivery and not delivery.resent else None
            emails += [email] if email else []
            document["days"][-1].update(demo_clock_start=stamp, email=email)
    document.update(
        ok=True,
        reconciliation=reconciliation_summary(demo_settings, days),
        what_changed=what_changed(demo_settings, emails[-1] if emails else None),
        locations=demo_locations(demo_settings, emails[-1] if emails else None),
    )
    if args.json:
        console.print_json(document)
    else:
        print_what_changed(document["what_changed"], len(days))
        if len(days) > DEFAULT_DAYS:  # with two days, "what changed" is day 2's already
            print_day_by_day(document["days"])
        print_reconciliation(document["reconciliation"])
        print_locations(document["locations"])
    return 0


def demo_days(count: int) -> tuple[date, ...]:
    """``count`` consecutive market days ending today (UTC): day 1 is the baseline."""
    today = datetime.now(UTC).date()
    return tuple(today - timedelta(days=count - n) for n in range(1, count + 1))


def showcase_days(first_day: date) -> tuple[date, date]:
    """Day 1 and day 2, whose changes the seed is chosen to show (with ``--days 1``, day 2
    is never run: the market is the one a longer demo starting that day would have)."""
    return first_day, first_day + timedelta(days=1)


def day_label(number: int) -> str:
    return "day 1 (baseline)" if number == 1 else f"day {number}"


def demo_market(
    seed: int, first_day: date, deck_size: int, tech_prefixes: tuple[str, ...]
) -> Market:
    from pipeline.emulator.carrier import Discrepancies
    from pipeline.emulator.market import Market

    day2 = first_day + timedelta(days=1)
    return Market(
        seed,
        first_day - timedelta(days=1),  # day 0: the balance before day 1's calls
        deck_size,
        tech_prefixes,
        effective_dates=True,
        default_tech_prefix=DEFAULT_TECH_PREFIX,
        discrepancies=Discrepancies(**DEMO_DISCREPANCIES, days=frozenset({day2})),
        # every day from day 3 on reconciles (README): a day the balance runs out is topped
        # up at its end, never left for the carrier to refuse the next day's calls
        top_up_in_time=True,
    )


def demo_clock_start(market_day: date) -> datetime:
    """A market day's fetches are stamped from the start of that day (UTC): two market days
    are a day apart, and the whole of yesterday lies within the history."""
    return datetime.combine(market_day, time(0), UTC)


def demo_day_count(args: argparse.Namespace) -> int:
    if not 1 <= args.days <= MAX_DAYS:
        raise InputError(
            f"--days: {args.days} is not in 1..{MAX_DAYS} (a month at most: each day is a "
            "full pipeline run)"
        )
    return args.days


def demo_deck_size(args: argparse.Namespace, settings: Settings) -> int:
    if args.deck_size is None:
        return settings.emulator.deck_size
    if not MIN_DECK_SIZE <= args.deck_size <= MAX_DECK_SIZE:
        raise InputError(
            f"--deck-size: {args.deck_size} is not in {MIN_DECK_SIZE}..{MAX_DECK_SIZE}"
        )
    return args.deck_size


def _emulator_settings(settings: Settings, url: str, api_key: str) -> Settings:
    """The settings, pointed at the emulator; no SMTP host: the demo never mails anyone, its
    email goes to the outbox."""
    secrets = settings.secrets.model_copy(update={"api_key": SecretStr(api_key)})
    overridden = settings.with_overrides(
        api={"base_url": url},
        smtp={"host": None},
        cdr={"default_tech_prefix": "current"},  # the switch dials current's calls bare
    )
    return overridden.model_copy(update={"secrets": secrets})


def _run_day(
    args,
    settings: Settings,
    instance,
    label: str,
    market_day: date,
    document: dict,
    report: bool = True,
):
    from pipeline.orchestrate import AREAS

    summary = execute(
        settings, list(AREAS), label=f"demo {label}", instance=instance, report=report
    )
    document["days"].append(
        {"label": label, "market_date": market_day, **summary_document(summary)}
    )
    if not args.json:
        print_summary(summary)
    if not summary.ok:
        if args.json:
            console.print_json(document)
        raise_if_failed(summary, context=f"demo {label}: ")


def _opening_balance(settings: Settings, server, instance, day0: date, started: datetime) -> None:
    """The balance at the end of day 0: what day 1's spend is measured from."""
    server.set_market_date(day0)
    with clock.running_from(demo_clock_start(day0) + (datetime.now(UTC) - started)):
        summary = execute(
            settings, ["balance"], label="demo day 0 (balance)", instance=instance, report=False
        )
    raise_if_failed(summary, context="demo day 0: ")


def _balance_before_top_up(
    args: argparse.Namespace, settings: Settings, server, instance, label: str
) -> None:
    """On a day the carrier tops the balance up, a fetch after the day's calls and before the
    top-up: the day's spend and its top-up are then two movements, as hourly fetches see
    them, rather than one net movement that would not reconcile with the calls."""
    top_up = server.app.market_day.ledger().top_up
    if not top_up:
        return
    _say(args, f"ratedeck demo: {label}: a top-up of {top_up}: balance fetched before it too")
    server.serve_balance_before_top_up()
    summary = execute(
        settings,
        ["balance"],
        label=f"demo {label} (balance before the top-up)",
        instance=instance,
        report=False,
    )
    raise_if_failed(summary, context=f"demo {label}: ")
    server.set_market_date(server.market_date)  # the day's closing balance again


def _import_calls(settings: Settings, market: Market, market_day: date) -> None:
    """The day's calls as the switch logged them and as the carrier billed them, imported
    and costed like any customer's files."""
    from pipeline.emulator.cdr import write_carrier_cdrs, write_switch_cdrs
    from pipeline.stages.cdr import cost_days, import_file
    from pipeline.stages.reconcile import import_carrier_file

    folder = settings.data_dir / "cdr"
    switch = write_switch_cdrs(market, market_day, folder / f"Master-{market_day}.csv")
    carrier = write_carrier_cdrs(market, market_day, market_day, folder / f"cdrs_{market_day}.csv")
    import_file(settings, switch)
    import_carrier_file(settings, carrier)
    cost_days(settings, [market_day], who="ratedeck demo", why="demo")


def reconciliation_summary(settings: Settings, days: tuple[date, ...]) -> list[dict]:
    """Per demo day: balance spend against the costed calls, and the calls in dispute."""
    from collections import Counter

    from pipeline.warehouse.db import Warehouse
    from pipeline.warehouse.reconcile import disputed_calls, reconcile_days

    tolerance = settings.reconcile.tolerance_pct
    with Warehouse(settings).reader() as con:
        found = {r.day: r for r in reconcile_days(con, days[0], days[-1], tolerance)}
        disputes = Counter(d["call_day"] for d in disputed_calls(con, days[0], days[-1]))
    return [
        {
            "day": d,
            "spend": found[d].spend if d in found else None,
            "own_cost": found[d].own_cost if d in found else None,
            "difference": found[d].difference if d in found else None,
            "pct": found[d].pct if d in found else None,
            "within_tolerance": found[d].within_tolerance if d in found else None,
            "disputed_calls": disputes.get(d, 0),  # call_day is a DATE
        }
        for d in days
    ]


def print_reconciliation(days: list[dict]) -> None:
    print()
    print("ratedeck demo: balance and calls against the carrier (docs/cdr.md#reconciliation)")
    console.print_table(
        ["day", "balance spend", "our calls cost", "difference", "%", "reconciles", "disputed"],
        [
            [
                d["day"],
                d["spend"],
                d["own_cost"],
                d["difference"],
                d["pct"],
                {True: "yes", False: "NO", None: "n/a"}[d["within_tolerance"]],
                d["disputed_calls"],
            ]
            for d in days
        ],
    )


def _say(args: argparse.Namespace, line: str) -> None:
    """Progress lines: stdout for people; with --json, stderr and only on a terminal."""
    if not args.json:
        print(line, flush=True)
    elif console.is_terminal():
        print(line, file=sys.stderr, flush=True)


# --- the data dir -----------------------------------------------------------------------------


def prepare_data_dir(settings: Settings) -> None:
    """Start from a clean slate, but never wipe a data dir that holds real (non-demo) data."""
    data_dir = settings.data_dir
    warehouse = settings.warehouse_path
    if warehouse.resolve().parent != data_dir.resolve():
        raise ConfigError(
            f"the demo keeps its warehouse in its data dir, not at {warehouse}: unset "
            "RATEDECK_WAREHOUSE (or warehouse.path) for the demo"
        )
    holds_data = data_dir.exists() and any(
        (data_dir / name).exists() for name in (*DEMO_OUTPUTS, warehouse.name)
    )
    # the marker is retired by any non-demo write (see pipeline.demo_data)
    if holds_data and not demo_data.is_demo_dir(data_dir):
        raise ConfigError(
            f"{data_dir} holds data that the demo did not write; set RATEDECK_DATA_DIR to another "
            "folder for the demo"
        )
    for name in DEMO_OUTPUTS:
        shutil.rmtree(data_dir / name, ignore_errors=True)
    for path in (warehouse, Path(f"{warehouse}.wal")):
        path.unlink(missing_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    demo_data.claim(data_dir)


# --- choosing a market that shows notice ------------------------------------------------------


def showcase_seed(
    first_seed: int,
    days: tuple[date, date],
    *,
    deck_size: int,
    tech_prefixes: tuple[str, ...],
    notice_days: int,
) -> int:
    """The first seed from ``first_seed`` whose market, on ``days[1]``, announces a change and
    (when the notice setting allows one) an increase at short notice; else ``first_seed``."""
    for seed in range(first_seed, first_seed + SEED_TRIES):
        market = demo_market(seed, days[0], deck_size, tech_prefixes)
        announced, short_notice = notice_outlook(market, *days, notice_days=notice_days)
        # under 2 days of notice setting, no announced increase can be short of it
        if announced and (short_notice or notice_days < 2) and no_top_ups(market, days):
            return seed
    return first_seed


def no_top_ups(market: Market, days: tuple[date, date]) -> bool:
    """No top-up on either day: with one balance fetch a day, a top-up nets out against the
    spend, and the day would not reconcile for a reason the demo does not mean to show."""
    return all(market.day(d).ledger().top_up == 0 for d in days)


def notice_outlook(market: Market, day1: date, day2: date, *, notice_days: int) -> tuple[int, int]:
    """(announced, short_notice): future-dated rows first served on ``day2``, and those among
    them that raise the price in force with fewer than ``notice_days`` whole days to go (fetched
    during ``day2``, so the pipeline sees less notice still)."""
    announced = short_notice = 0
    # one deck per plan: "current" and the default tech prefix are the same deck, loaded once
    for tech_prefix in {market.plan(tp): tp for tp in market.tech_prefixes}.values():
        seen = {
            (r.prefix, r.effective_date, r.price) for r in market.day(day1).voice_deck(tech_prefix)
        }
        in_force = {r.prefix: r.price for r in market.day(day2).current_rates(tech_prefix)}
        for row in market.day(day2).voice_deck(tech_prefix):
            effective = row.effective_date  # announced: a date after day 2
            if effective is None or effective <= day2 or (row.prefix, effective, row.price) in seen:
                continue
            announced += 1
            old_price = in_force.get(row.prefix)
            if (
                old_price is not None
                and row.price > old_price
                and (effective - day2).days < notice_days
            ):
                short_notice += 1
    return announced, short_notice


# --- what changed, where everything is --------------------------------------------------------


def what_changed(settings: Settings, eml: Path | None) -> dict:
    """The changes of day 2 on as the published warehouse holds them (read-only), and the last
    finance email (``eml``)."""
    from pipeline.warehouse.db import Warehouse
    from pipeline.warehouse.migrate import read_sql

    with Warehouse(settings).reader() as con:
        voice = dict(con.execute(read_sql("queries/demo_voice_changes.sql")).fetchall())
        sms = dict(con.execute(read_sql("queries/demo_sms_changes.sql")).fetchall())
        announced, earliest, short_notice, least_notice = con.execute(
            read_sql("queries/demo_notice.sql"), {"notice_days": settings.report.notice_days}
        ).fetchall()[0]
    return {
        "voice_changes": voice,
        "voice_total": sum(voice.values()),
        "sms_changes": sms,
        "sms_total": sum(sms.values()),
        "announced": announced,
        "earliest_effective_at": earliest,
        "short_notice_increases": short_notice,
        "least_notice_days": least_notice,
        "notice_days": settings.report.notice_days,
        "email": eml,
        "email_subject": email_subject(eml) if eml else None,
    }


def email_subject(path: Path) -> str | None:
    from email import policy
    from email.parser import BytesParser

    with path.open("rb") as fp:
        return BytesParser(policy=policy.default).parse(fp, headersonly=True)["subject"]


def demo_locations(settings: Settings, eml: Path | None) -> dict[str, Path | None]:
    return {
        "warehouse": settings.warehouse_path,
        "raw": settings.raw_dir,
        "email": eml,
        "report_files": settings.reports_dir if settings.reports_dir.exists() else None,
        "dagster_home": settings.dagster_home,
    }


def _by_type(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in counts.items()) or "none"


def print_what_changed(changed: dict, day_count: int) -> None:
    earliest = changed["earliest_effective_at"]
    print()
    days = {1: "day 1 (the baseline: nothing yet)", 2: "day 2"}.get(
        day_count, f"days 2-{day_count}"
    )
    print(f"ratedeck demo: what changed on {days}")
    console.print_table(
        ["what", "count", "detail"],
        [
            ["voice changes", changed["voice_total"], _by_type(changed["voice_changes"])],
            ["SMS changes", changed["sms_total"], _by_type(changed["sms_changes"])],
            [
                "announced (future-dated)",
                changed["announced"],
                f"earliest effective {earliest:%Y-%m-%d}" if earliest else "",
            ],
            [
                "short-notice increases",
                changed["short_notice_increases"],
                f"announced < {changed['notice_days']} days ahead",
            ],
        ],
    )
    print(f"finance email: {changed['email'] or '(none: no changes)'}")
    if changed["email_subject"]:
        print(f"subject:       {changed['email_subject']}")


def print_day_by_day(days: list[dict]) -> None:
    """What each day did: its changes and its finance email (sent once per change)."""
    print()
    print("ratedeck demo: day by day")
    console.print_table(
        ["day", "market date", "voice changes", "SMS changes", "finance email"],
        [
            [
                d["label"],
                d["market_date"],
                d["totals"]["voice_changes"],
                d["totals"]["sms_changes"],
                d["email"] or ("(baseline)" if n == 0 else "(none: no changes)"),
            ]
            for n, d in enumerate(days)
        ],
    )


def print_locations(locations: dict[str, Path | None]) -> None:
    print()
    print("ratedeck demo: done. Where everything is:")
    console.print_table(
        ["what", "where"],
        [
            ["warehouse (open read-only)", locations["warehouse"]],
            ["raw downloads", locations["raw"]],
            ["finance email (.eml)", locations["email"] or "(none: no changes)"],
            ["report files", locations["report_files"] or "(none)"],
            ["Dagster home (make dev)", locations["dagster_home"]],
        ],
    )
    print()
    print("Try:")
    print(
        '  .venv/bin/ratedeck sql "SELECT tech_prefix, rated_on, count(*) FROM voice_rate_current GROUP BY ALL ORDER BY 1"'
    )
    print("  .venv/bin/ratedeck diff")
    print('  .venv/bin/ratedeck lookup "+353 89 412 3456" --duration 185')
