"""The carrier may bill a call on an alias route (``voice_deck_alias``: 021001 downloaded the
very deck "current" holds, stored once). Reconciliation reads that call on the deck the alias
shares, by the one rule (``voice_deck_aliases()``): the dispute's "Tech prefix" and "Carrier
rate valid from" are the same whichever label the carrier used. Real warehouse, real carrier
import."""

from __future__ import annotations

from datetime import date, timedelta

from support.cdr import DAY, HISTORY, NOON, insert_history

from pipeline.settings import Settings
from pipeline.stages.reconcile import import_carrier_file
from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.reconcile import disputed_calls

HEADER = (
    "Call ID,Start Time (UTC),Tech Prefix,Destination Number,Destination,Prefix,"
    "Duration,Billed Seconds,Rate,Billing Increments,Cost,Currency\n"
)
MORNING = (NOON - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S")


def billed_early(call_id: str, tech_prefix: str, number: str) -> str:
    """A London call the switch never made, billed before noon at the price from noon."""
    return f"{call_id},{MORNING},{tech_prefix},{number},London,4420,60,60,0.25,60/60,0.25,USD\n"


def test_an_alias_route_reads_the_deck_it_shares(tmp_path):
    settings = Settings().with_overrides(
        paths={"data_dir": str(tmp_path / "data")},
        voice={"tech_prefixes": ["current", "021001"]},
    )
    insert_history(settings, [row for row in HISTORY if row[0] == "current"])
    with Warehouse(settings).writer() as con:  # 021001's download was current's deck
        con.execute(
            "INSERT INTO voice_deck_alias VALUES ('021001', 'current', 1, ?, 'ab12', 'x.csv')",
            [DAY - timedelta(days=1)],
        )
    export = tmp_path / "cdrs.csv"
    export.write_text(
        HEADER + billed_early("c1", "current", "442071110001")
        + billed_early("c2", "021001", "442071110002")
    )  # fmt: skip
    import_carrier_file(settings, export)

    with Warehouse(settings).reader() as con:
        rows = disputed_calls(con, date(2026, 12, 1), date(2026, 12, 1))

    valid_from = NOON  # current's 4420 version billed (the carrier billed it early)
    assert [
        (r["their_call_id"], r["class"], r["tech_prefix"], r["their_rate_valid_from"]) for r in rows
    ] == [
        ("c1", "missing_ours", "current", valid_from),
        ("c2", "missing_ours", "current", valid_from),
    ]
