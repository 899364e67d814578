"""``ratedeck diff [--kind voice|sms|all] [--tech-prefix P] [--channel C] [--since TS]``: price
changes between snapshots, read from the published warehouse (read-only).

Voice changes come with their longest-prefix effect and the cost of the reference call
(``report.reference_call_seconds``) before and after; SMS changes with channel, MCC/MNC,
country and network (an MCC/MNC pair the reference lacks is shown as "unknown network").
``--tech-prefix`` narrows to voice and ``--channel`` to SMS unless ``--kind`` says otherwise.
"""

from __future__ import annotations

import argparse

from pipeline import console
from pipeline.clock import parse_moment
from pipeline.errors import InputError
from pipeline.reports import formatting as fmt
from pipeline.settings import Settings, validate_tech_prefix

# reads the warehouse and writes only files it has closed: no teardown needed (cli.entry)
QUICK_EXIT = True

KINDS = ("voice", "sms", "all")
SMS_TABLE_COLUMNS = (
    "channel",
    "mcc",
    "mnc",
    "change",
    "country",
    "network",
    "old_rate",
    "new_rate",
    "change_pct",
    "changed_at",
)
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
    parser.add_argument(
        "--kind",
        choices=KINDS,
        default=None,
        help="voice, sms or all (default: all; voice with --tech-prefix, sms with --channel)",
    )
    parser.add_argument("--tech-prefix", metavar="P", help="only this tech prefix (voice)")
    parser.add_argument("--channel", metavar="C", help="only this SMS channel (username:id)")
    parser.add_argument(
        "--since",
        metavar="TS",
        help="only changes effective at or after TS (ISO date or date-time; UTC unless it "
        "has an offset)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.analytics.diff import check_channel, sms_changes, voice_changes
    from pipeline.analytics.one_call import resolve_tech_prefixes
    from pipeline.warehouse.db import Warehouse

    kinds = selected_kinds(args.kind, tech_prefix=args.tech_prefix, channel=args.channel)
    tech_prefix = _tech_prefix(args.tech_prefix)
    channel = _channel(args.channel)
    since = parse_moment(args.since, "--since") if args.since else None
    voice, sms = [], []
    with Warehouse(settings).reader() as con:
        if tech_prefix is not None:
            # as lookup and cost do: "no price changes" would hide a mistyped tech prefix
            resolve_tech_prefixes(con, [tech_prefix])
        if channel is not None:
            check_channel(con, channel)
        if "voice" in kinds:
            voice = voice_changes(
                con,
                tech_prefix=tech_prefix,
                since=since,
                reference_call_seconds=settings.report.reference_call_seconds,
                cost_decimals=settings.report.cost_decimals,
            ).to_dicts()
        if "sms" in kinds:
            sms = sms_changes(con, channel=channel, since=since).to_dicts()
    if args.json:
        changes = [{"kind": "voice", **r} for r in voice] + [{"kind": "sms", **r} for r in sms]
        console.print_json(
            {
                "kinds": list(kinds),
                "reference_call_seconds": settings.report.reference_call_seconds,
                "count": len(changes),
                "voice_count": len(voice) if "voice" in kinds else None,
                "sms_count": len(sms) if "sms" in kinds else None,
                "changes": changes,
            }
        )
        return 0
    _print_tables(kinds, voice, sms)
    return 0


def selected_kinds(kind: str | None, *, tech_prefix: str | None, channel: str | None) -> tuple:
    """Which kinds of change to show: --kind, else what the filters imply, else both."""
    if kind == "sms" and tech_prefix:
        raise InputError("--tech-prefix filters voice changes: not with --kind sms")
    if kind == "voice" and channel:
        raise InputError("--channel filters SMS changes: not with --kind voice")
    if kind is None:
        kind = "all" if bool(tech_prefix) == bool(channel) else ("voice" if tech_prefix else "sms")
    return ("voice", "sms") if kind == "all" else (kind,)


def _print_tables(kinds: tuple, voice: list[dict], sms: list[dict]) -> None:
    both = len(kinds) > 1
    if not voice and not sms:
        print("no price changes")
        return
    if "voice" in kinds:
        if both:
            print(f"Voice: {len(voice)} change{'s' if len(voice) != 1 else ''}")
        if voice:
            console.print_table(TABLE_COLUMNS, [_table_row(r) for r in voice])
    if "sms" in kinds:
        if both:
            print(f"\nSMS: {len(sms)} change{'s' if len(sms) != 1 else ''}")
        if sms:
            console.print_table(SMS_TABLE_COLUMNS, [_sms_table_row(r) for r in sms])


def _tech_prefix(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return validate_tech_prefix(value)
    except ValueError as exc:
        raise InputError(f"--tech-prefix: {exc}") from None


def _channel(value: str | None) -> str | None:
    if value is None:
        return None
    username, sep, channel_id = value.partition(":")
    if not (sep and username and channel_id):
        raise InputError(f"--channel {value!r}: expected username:id, e.g. demo:1")
    return value


def _sms_table_row(r: dict) -> tuple:
    if r["known"]:
        country, network = r["country"], r["network"]
    else:
        country, network = r["mcc_country"] or "", "unknown network"
    return (
        r["channel"],
        r["mcc"],
        r["mnc"],
        r["change_type"],
        country,
        network,
        r["old_rate"],
        r["new_rate"],
        fmt.pct(r["rate_change_pct"]),
        r["changed_at"],
    )


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
