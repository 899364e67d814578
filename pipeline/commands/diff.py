"""``ratedeck diff [--tech-prefix P] [--since TS]``: voice price changes between snapshots,
read from the published warehouse (read-only), with their longest-prefix effect and the cost
of the reference call (``report.reference_call_seconds``) before and after."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from pipeline import console
from pipeline.errors import InputError
from pipeline.reports import formatting as fmt
from pipeline.settings import Settings, validate_tech_prefix

TABLE_COLUMNS = (
    "tech_prefix",
    "prefix",
    "change",
    "destination",
    "old_price",
    "new_price",
    "change_pct",
    "call_old",
    "call_new",
    "call_pct",
    "effective_at",
    "effect",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tech-prefix", metavar="P", help="only this tech prefix")
    parser.add_argument(
        "--since",
        metavar="TS",
        help="only changes effective at or after TS (ISO date or date-time; UTC unless it "
        "has an offset)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.analytics.diff import voice_changes
    from pipeline.warehouse.db import Warehouse

    tech_prefix = _tech_prefix(args.tech_prefix)
    since = parse_timestamp(args.since) if args.since else None
    with Warehouse(settings).reader() as con:
        changes = voice_changes(
            con,
            tech_prefix=tech_prefix,
            since=since,
            reference_call_seconds=settings.report.reference_call_seconds,
            cost_decimals=settings.report.cost_decimals,
        )
    if args.json:
        console.print_json(
            {
                "reference_call_seconds": settings.report.reference_call_seconds,
                "count": changes.height,
                "changes": changes.to_dicts(),
            }
        )
        return 0
    if changes.is_empty():
        print("no price changes")
        return 0
    console.print_table(TABLE_COLUMNS, [_table_row(r) for r in changes.to_dicts()])
    return 0


def parse_timestamp(text: str) -> datetime:
    """2026-11-05, 2026-11-05T06:00, 2026-11-05 06:00:00+01:00 -> an aware UTC datetime."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"--since {text!r}: expected an ISO date or date-time, e.g. 2026-11-05 or "
            "2026-11-05T06:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _tech_prefix(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return validate_tech_prefix(value)
    except ValueError as exc:
        raise InputError(f"--tech-prefix: {exc}") from None


def _table_row(r: dict) -> tuple:
    return (
        r["tech_prefix"],
        r["prefix"],
        r["change_type"],
        r["new_destination"] or r["old_destination"],
        r["effective_old_price"] if r["change_type"] != "withdrawn" else r["old_price"],
        r["effective_new_price"],
        fmt.pct(r["effective_change_pct"]),
        r["old_call_cost"],
        r["new_call_cost"],
        fmt.pct(r["call_cost_change_pct"]),
        r["changed_at"],
        _effect(r),
    )


def _effect(r: dict) -> str:
    if not r["parent_prefix"]:
        return ""
    verb = "now billed as" if r["change_type"] == "removed" else "was billed as"
    return f"{verb} {r['parent_prefix']}"
