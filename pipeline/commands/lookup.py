"""``ratedeck lookup NUMBER [--tech-prefix P] [--duration S] [--at TS]``: the longest-prefix
rate and the cost of one call, per tech prefix (every one with a deck of its own unless
``--tech-prefix``, which may repeat and may name an alias: priced on the deck it shares, with a
note), at now or at a past (or scheduled) moment, then the cheapest. ``--duration`` defaults to ``report.reference_call_seconds``. Reads the published
warehouse read-only. A number with letters is refused (exit 2).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from pipeline import console
from pipeline.clock import parse_moment
from pipeline.settings import Settings, validate_tech_prefix

# reads the warehouse and writes only files it has closed: no teardown needed (cli.entry)
QUICK_EXIT = True

TECH_PREFIX_HELP = (  # cost's too
    "only this tech prefix (repeatable; default: every one with a deck of its own; an alias "
    "is priced on the deck it shares)"
)
TABLE_COLUMNS = (
    "tech_prefix",
    "prefix",
    "destination",
    "price/min",
    "increments",
    "billed_s",
    "cost",
    "currency",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("number", metavar="NUMBER", help="phone number (+, 00, spaces allowed)")
    parser.add_argument(
        "--tech-prefix",
        metavar="P",
        action="append",
        type=tech_prefix_arg,
        help=TECH_PREFIX_HELP,
    )
    parser.add_argument(
        "--duration",
        metavar="S",
        type=seconds_arg,
        help="call length in seconds (default: report.reference_call_seconds)",
    )
    parser.add_argument(
        "--at",
        metavar="TS",
        help="rate as of this moment (ISO date or date-time, UTC unless it has an offset; "
        "default: now)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.analytics.one_call import (
        cheapest,
        lookup_number,
        priced_decks,
        refused_prefix_notes,
    )
    from pipeline.warehouse.db import Warehouse

    duration = settings.report.reference_call_seconds if args.duration is None else args.duration
    at = parse_moment(args.at, "--at") if args.at else datetime.now(UTC)
    with Warehouse(settings).reader() as con:
        decks = priced_decks(con)
        results = lookup_number(
            con,
            args.number,
            tech_prefixes=args.tech_prefix,
            duration_s=duration,
            at=at,
            cost_decimals=settings.report.cost_decimals,
        )
        refused = refused_prefix_notes(con, results)
    best = cheapest(results)
    # which deck an alias shares, priced or left out; prefixes of the number a download refused
    notes = decks.notes([r.tech_prefix for r in results], listed_all=not args.tech_prefix)
    notes += refused
    if args.json:
        console.print_json(
            {
                "number": results[0].number if results else args.number,
                "duration_s": duration,
                "at": at,
                "results": [r.to_dict() for r in results],
                "cheapest": best.to_dict() if best else None,
                "notes": notes,
            }
        )
        return 0
    number = results[0].number if results else args.number
    # isoformat, not %Y: strftime writes year 1 as "1"
    when = at.replace(tzinfo=None).isoformat(" ", "seconds")
    print(f"number {number}, {duration} s call, at {when} UTC")
    console.print_table(TABLE_COLUMNS, [_row(r) for r in results])
    for reason in dict.fromkeys(r.no_match_reason for r in results if r.no_match_reason):
        print(reason)
    for note in notes:
        print(note)
    if best is None:
        print(f"cheapest: none - no tech prefix has a rate for {number}")
    else:
        print(
            f"cheapest: {best.tech_prefix} ({best.matched_prefix} {best.destination}) "
            f"{best.cost} for {best.billed_seconds} billed seconds"
        )
    return 0


def _row(result) -> tuple:
    if not result.matched:
        return (result.tech_prefix, "", "(no match)", "", "", "", "", "")
    return (
        result.tech_prefix,
        result.matched_prefix,
        result.destination,
        result.price,
        f"{result.initial_seconds}/{result.increment_seconds}",
        result.billed_seconds,
        result.cost,
        result.currency or "",
    )


def tech_prefix_arg(value: str) -> str:
    try:
        return validate_tech_prefix(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def seconds_arg(value: str) -> int:
    from pipeline.limits import MAX_CALL_SECONDS, TOO_LARGE  # cost's limit too

    text = value.strip()
    if not text.isdecimal():  # not isdigit: int() refuses "²"
        raise argparse.ArgumentTypeError(f"{value!r}: expected whole seconds >= 0")
    if len(text) > 18 or int(text) > MAX_CALL_SECONDS:  # int() refuses 4,301 digits
        raise argparse.ArgumentTypeError(f"{value!r} {TOO_LARGE} (as in cost)")
    return int(text)
