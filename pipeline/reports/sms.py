"""The SMS section of the report: unreported ``sms_rate_change`` rows, per channel and network.

Country and network names come from the public MCC/MNC reference (external text: escaped in
the HTML, neutralised in the attachments like every name). A pair the reference does not list
is kept and flagged "unknown network", placed in its MCC's country when that is known.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from pipeline.analytics.diff import sms_changes
from pipeline.reports import formatting as fmt
from pipeline.reports.model import ChangeRow, ChangeSection, Column
from pipeline.settings import Settings

UNKNOWN_NETWORK = "unknown network"
UNKNOWN_COUNTRY = "unknown country"
CATEGORY = {"increase": "up", "decrease": "down", "new": "new", "removed": "removed"}

SMS_COLUMNS = (
    Column("Channel", "channel"),
    Column("MCC", "mcc"),  # text: '02' and '002' are different MNCs
    Column("MNC", "mnc"),
    Column("MCC-MNC", "network_code"),
    Column("Country", "country"),
    Column("Network", "network"),
    Column("Unknown network", "unknown_network", "bool"),
    Column("Change", "change_type"),
    Column("Direction", "category"),
    Column("Old rate", "old_rate", "price"),
    Column("New rate", "new_rate", "price"),
    Column("Rate change", "rate_change", "price"),
    Column("Rate change %", "rate_change_pct", "pct"),
    Column("Changed at (UTC)", "changed_at", "datetime"),
    Column("Effect", "effect"),
    Column("Snapshot id", "snapshot_id", "int"),
    Column("Change id", "change_id"),
)


def sms_section(
    con: duckdb.DuckDBPyConnection, settings: Settings, *, now: datetime
) -> ChangeSection | None:
    """The unreported SMS rate changes, or None when there are none."""
    frame = sms_changes(con, unreported_only=True)
    if frame.is_empty():
        return None
    rows, records = [], []
    for record in frame.to_dicts():
        row = sms_row(record, now=now)
        rows.append(row)
        records.append(
            {
                **record,
                # an unknown pair still has a country when its MCC is known
                "country": record["country"] or record["mcc_country"],
                "unknown_network": row.unknown_network,
                "category": row.category,
                "effect": row.effect,
            }
        )
    currency = settings.report.currency
    return ChangeSection(
        kind="sms",
        title="SMS",
        group_label="Channel",
        key_label="MCC-MNC",
        name_label="Country – network",
        rows=tuple(rows),
        columns=SMS_COLUMNS,
        records=tuple(records),
        notes=(
            f"SMS rates in {currency} per message, per channel (username:id) and mobile network "
            "(MCC-MNC: mobile country and network code).",
            "Country and network names from the public MCC/MNC reference; a code it does not "
            "list is flagged unknown network (with its country when the MCC is known). "
            "A removed network is no longer in the channel's price list.",
        ),
        subject_prefix="SMS ",
        count_label="SMS",
        price_unit="per message",
    )


def sms_row(r: dict, *, now: datetime) -> ChangeRow:
    unknown = not r["known"]
    return ChangeRow(
        kind="sms",
        change_id=r["change_id"],
        group=r["channel"],
        key=r["network_code"],
        name=display_name(r),
        change_type=r["change_type"],
        category=CATEGORY[r["change_type"]],
        old_price=r["old_rate"],
        new_price=r["new_rate"],
        change_pct=r["rate_change_pct"],
        effective_at=r["changed_at"],
        announced_at=r["changed_at"],  # SMS lists carry no effective dates: in force when seen
        notice_days=None,
        upcoming=r["changed_at"] > now,
        short_notice=False,
        effect=_effect(r),
        unknown_network=unknown,
    )


def display_name(r: dict) -> str:
    """``Ireland – Vodafone``; an unknown pair: its MCC's country (the badge says the rest)."""
    if r["known"]:
        return " – ".join(part for part in (r["country"], r["network"]) if part)
    return r["mcc_country"] or UNKNOWN_COUNTRY


def _effect(r: dict) -> str:
    where = f"MCC {r['mcc']} MNC {r['mnc']}"
    unknown = f"{where} is not in the MCC/MNC reference"
    match r["change_type"]:
        case "new":
            text = f"new: now offered at {fmt.price(r['new_rate'])}"
        case "removed":
            text = f"removed: no longer in the price list (was {fmt.price(r['old_rate'])})"
        case _:
            text = ""
    if r["known"]:
        return text
    return f"{text}; {unknown}" if text else unknown
