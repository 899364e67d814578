"""The voice section of the report: unreported ``voice_rate_change`` rows, explained."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import polars as pl

from pipeline.analytics.cdr import derived_traffic_profile
from pipeline.analytics.diff import read_traffic_profile, voice_changes
from pipeline.clock import as_utc
from pipeline.reports import formatting as fmt
from pipeline.reports.model import ChangeRow, ChangeSection, Column
from pipeline.settings import Settings

VOICE_COLUMNS = (
    Column("Tech prefix", "tech_prefix"),
    Column("Prefix", "prefix"),
    Column("Change", "change_type"),
    Column("Direction", "category"),
    Column("Old destination", "old_destination"),
    Column("New destination", "new_destination"),
    Column("Old price", "old_price", "price"),
    Column("New price", "new_price", "price"),
    Column("Price change", "price_change", "price"),
    Column("Price change %", "price_change_pct", "pct"),
    Column("Old billing", "old_billing"),
    Column("New billing", "new_billing"),
    Column("Parent prefix", "parent_prefix"),
    Column("Parent destination", "parent_destination"),
    Column("Parent price", "parent_price", "price"),
    Column("Effective old price", "effective_old_price", "price"),
    Column("Effective new price", "effective_new_price", "price"),
    Column("Effective change %", "effective_change_pct", "pct"),
    Column("Reference call old cost", "old_call_cost", "cost"),
    Column("Reference call new cost", "new_call_cost", "cost"),
    Column("Reference call change %", "call_cost_change_pct", "pct"),
    Column("Effective at (UTC)", "changed_at", "datetime"),
    Column("Announced at (UTC)", "announced_at", "datetime"),
    Column("Stated effective date (UTC)", "stated_effective_at", "datetime"),
    Column("Notice days", "notice_days", "days"),
    Column("Short notice", "short_notice", "bool"),
    Column("Minutes per month", "monthly_minutes", "minutes"),
    Column("Monthly impact", "monthly_impact", "money"),
    Column("Effect", "effect"),
    Column("Change id", "change_id"),
)


def voice_section(
    con: duckdb.DuckDBPyConnection, settings: Settings, *, now: datetime
) -> ChangeSection | None:
    """The unreported voice changes, or None when there are none."""
    report = settings.report
    tech_prefixes = settings.voice.tech_prefixes
    traffic, traffic_source = _traffic(con, settings, today=as_utc(now).date())
    frame = voice_changes(
        con,
        reference_call_seconds=report.reference_call_seconds,
        cost_decimals=report.cost_decimals,
        unreported_only=True,
        traffic=traffic,
        default_route=tech_prefixes[0],  # the account's default route: see README
    )
    if frame.is_empty():
        return None
    records = []
    rows = []
    for record in frame.to_dicts():
        row = _row(
            record,
            now=now,
            notice_days=report.notice_days,
            reference_call_seconds=report.reference_call_seconds,
        )
        records.append(
            {
                **record,
                "category": row.category,
                "old_billing": fmt.billing(
                    record["old_initial_seconds"], record["old_increment_seconds"]
                ),
                "new_billing": fmt.billing(
                    record["new_initial_seconds"], record["new_increment_seconds"]
                ),
                "short_notice": row.short_notice,
                "effect": row.effect,
            }
        )
        rows.append(row)
    columns = VOICE_COLUMNS if traffic is not None else _without_traffic(VOICE_COLUMNS)
    notes = [
        f"Prices per minute in {report.currency}. Reference call: "
        f"{report.reference_call_seconds} s, billed by each rate's increments "
        "(first a seconds, then b-second steps).",
        "A removed prefix's numbers are billed by the longest shorter prefix left; "
        "a new prefix takes its numbers from the prefix that billed them before.",
    ]
    if traffic is not None:
        notes.append(
            f"Monthly impact: minutes per month from {traffic_source} routed through "
            "each changed range (longest prefix match) times the price change per minute; "
            f"traffic that names no tech prefix runs on {tech_prefixes[0]} only."
        )
    return ChangeSection(
        kind="voice",
        title="Voice",
        group_label="Tech prefix",
        key_label="Prefix",
        name_label="Destination",
        rows=tuple(rows),
        columns=columns,
        records=tuple(records),
        has_traffic=traffic is not None,
        notes=tuple(notes),
        count_label="voice",
    )


def _traffic(
    con: duckdb.DuckDBPyConnection, settings: Settings, *, today: date
) -> tuple[pl.DataFrame | None, str]:
    """The traffic the monthly impact is priced on, and where it comes from: the hand-made
    profile (report.traffic_profile) when set, else the customer's costed calls up to the
    report's ``today`` (docs/cdr.md)."""
    report = settings.report
    if report.traffic_profile:
        profile = read_traffic_profile(
            report.traffic_profile, tech_prefixes=settings.voice.tech_prefixes
        )
        return profile, report.traffic_profile.name
    derived = derived_traffic_profile(con, settings.cdr.profile_days, today=today)
    if derived is None:
        return None, ""
    return derived.frame, derived.description


def _row(r: dict, *, now: datetime, notice_days: int, reference_call_seconds: int) -> ChangeRow:
    category = r["direction"]  # the reference call's verdict, as voice_rate_change has it
    upcoming = r["changed_at"] > now
    # Notice is a promise about dated decks: a change announced ahead, or a deck that states
    # effective dates at all. An undated deck's change is in force when seen: not flagged.
    dated = r["changed_at"] > r["announced_at"] or r["stated_effective_at"] is not None
    short_notice = (
        category == "up"
        and dated
        and r["notice_days"] is not None
        and r["notice_days"] < notice_days
    )
    withdrawn = r["change_type"] == "withdrawn"
    return ChangeRow(
        kind="voice",
        change_id=r["change_id"],
        group=r["tech_prefix"],
        key=r["prefix"],
        name=r["new_destination"] or r["old_destination"] or "",
        change_type=r["change_type"],
        category=category,
        old_price=r["old_price"] if withdrawn else r["effective_old_price"],
        new_price=r["effective_new_price"],
        change_pct=r["effective_change_pct"],
        old_billing=fmt.billing(
            r["effective_old_initial_seconds"], r["effective_old_increment_seconds"]
        ),
        new_billing=fmt.billing(
            r["effective_new_initial_seconds"], r["effective_new_increment_seconds"]
        ),
        old_call_cost=r["old_call_cost"],
        new_call_cost=r["new_call_cost"],
        call_change_pct=r["call_cost_change_pct"],
        effective_at=r["changed_at"],
        announced_at=r["announced_at"],
        notice_days=r["notice_days"],
        upcoming=upcoming,
        short_notice=short_notice,
        monthly_minutes=r.get("monthly_minutes"),
        monthly_impact=r.get("monthly_impact"),
        effect=_effect(r, reference_call_seconds),
        parent=f"{r['parent_prefix']} {r['parent_destination']}" if r["parent_prefix"] else "",
    )


def _effect(r: dict, reference_call_seconds: int) -> str:
    """The longest-prefix effect in one line, e.g. "3538994 removed: now billed as 35389
    (Ireland Mobile) at 0.1617, +2.20%"."""
    parent = (
        f"{r['parent_prefix']} ({r['parent_destination']}) at {fmt.price(r['parent_price'])}"
        if r["parent_prefix"]
        else ""
    )
    pct = fmt.pct(r["effective_change_pct"])
    match r["change_type"]:
        case "removed" if parent:
            return f"{r['prefix']} removed: now billed as {parent}, {pct}"
        case "removed":
            return f"{r['prefix']} removed: no shorter prefix left, calls to it will fail"
        case "new" if parent:
            return f"{r['prefix']} new: was billed as {parent}, {pct}"
        case "new":
            return f"{r['prefix']} new: numbers not routable before"
        case "renamed":
            return f"renamed from {r['old_destination']}"
        case "withdrawn":
            return "a scheduled change withdrawn before it took effect"
        case "increment_change" | "increase" | "decrease" if _billing_changed(r):
            text = (
                f"billing {fmt.billing(r['old_initial_seconds'], r['old_increment_seconds'])} -> "
                f"{fmt.billing(r['new_initial_seconds'], r['new_increment_seconds'])}"
            )
            if r["call_cost_direction"] == "same":
                text += f" (a {reference_call_seconds} s call costs the same)"
            return text
    return ""


def _billing_changed(r: dict) -> bool:
    return (r["old_initial_seconds"], r["old_increment_seconds"]) != (
        r["new_initial_seconds"],
        r["new_increment_seconds"],
    )


def _without_traffic(columns: tuple[Column, ...]) -> tuple[Column, ...]:
    return tuple(c for c in columns if c.field not in ("monthly_minutes", "monthly_impact"))
