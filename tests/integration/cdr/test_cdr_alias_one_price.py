"""One engine, one rule: a call routed through a tech prefix whose deck is an alias
(``voice_deck_alias``: the deck another tech prefix holds, stored once) costs the same in CDR
costing, ``lookup``, ``cost`` and the ``call_cost`` macro: the shared deck's price, by brute
force."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import polars as pl
from support.cdr import DAY, HISTORY, NOON, asterisk_line, insert_history, write_master
from support.lookup_reference import Version, reference_billed, reference_cost, reference_match

from pipeline.analytics.lookup import cost_calls, lookup_number
from pipeline.settings import Settings
from pipeline.stages.cdr import cost_days, import_file
from pipeline.warehouse.db import Warehouse

ALIAS = "021009"
CURRENT = [
    Version(prefix, destination, Decimal(price), a, b, start, end)
    for tp, prefix, destination, price, a, b, start, end in HISTORY
    if tp == "current"
]
# (call_id, number, start, billsec): nested prefixes, both sides of the noon price change
CALLS = [
    (f"a{i}", number, start, billsec)
    for i, (number, start, billsec) in enumerate(
        (number, start, billsec)
        for number in ("442071234567", "442079460000", "447700900123", "35312345678")
        for start in (NOON - timedelta(hours=1), NOON + timedelta(hours=1))
        for billsec in (1, 61, 185)
    )
]


def test_an_alias_call_costs_the_same_everywhere(tmp_path):
    settings = Settings().with_overrides(
        paths={"data_dir": str(tmp_path / "data")},
        voice={"tech_prefixes": ["current", "021001", ALIAS]},
    )
    insert_history(settings, HISTORY)
    with Warehouse(settings).writer() as con:  # ALIAS's download was current's deck
        con.execute(
            "INSERT INTO voice_deck_alias VALUES (?, 'current', 1, ?, 'ab12', 'raw/voice/x.csv')",
            [ALIAS, DAY - timedelta(days=1)],
        )
    lines = [asterisk_line(c, ALIAS + number, start, s) for c, number, start, s in CALLS]
    import_file(settings, write_master(tmp_path / "Master.csv", lines))
    cost_days(settings)

    with Warehouse(settings).reader() as con:
        cdr = {
            call_id: rest
            for call_id, *rest in con.execute(
                "SELECT call_id, tech_prefix, rated_on, matched_prefix, cost,"
                " call_cost(number, billsec, tech_prefix, started_at) FROM cdr_cost"
            ).fetchall()
        }
        looked_up = {
            call_id: lookup_number(con, number, tech_prefixes=[ALIAS], duration_s=s, at=start)[0]
            for call_id, number, start, s in CALLS
        }
        calls = pl.DataFrame(
            [(number, s, start) for _, number, start, s in CALLS],
            schema={
                "number": pl.String,
                "duration": pl.Int64,
                "started_at": pl.Datetime("us", "UTC"),
            },
            orient="row",
        )
        costed = cost_calls(con, calls, tech_prefixes=[ALIAS], now=datetime.now(UTC)).frame

    assert len(cdr) == len(CALLS)
    for (call_id, number, start, billsec), cost_row in zip(
        CALLS, costed.iter_rows(named=True), strict=True
    ):
        hit = reference_match(CURRENT, number, start)
        assert hit is not None
        expected = reference_cost(
            hit.price, reference_billed(billsec, hit.initial, hit.increment), 6
        )
        assert cdr[call_id] == [ALIAS, "current", hit.prefix, expected, expected]
        lookup = looked_up[call_id]
        assert (lookup.tech_prefix, lookup.rated_on, lookup.matched_prefix, lookup.cost) == (
            ALIAS,
            "current",
            hit.prefix,
            expected,
        )
        assert (cost_row["tech_prefix"], cost_row["matched_prefix"], cost_row["cost"]) == (
            ALIAS,
            hit.prefix,
            expected,
        )
