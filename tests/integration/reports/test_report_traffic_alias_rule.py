"""The report's traffic impact routes an alias tech prefix by the one alias rule, the macro
``voice_deck_aliases()`` that ``lookup``, ``cost``, the LPM macros and CDR costing apply, on the
published warehouse file, as ``ratedeck report`` reads it.

Three files: a current one; one whose macro says something else (the report must follow it, as
``lookup`` does: a copy of the rule kept in the report's SQL would not); one published before
the macro existed (no aliases, as ``lookup`` and ``cost`` see it, until the next run
publishes). Each checked against a brute-force reference (support.traffic_impact)."""

from __future__ import annotations

import pytest
from support.reports import T0, T1
from support.traffic_impact import impact_by_change, rates, reference_impact

from pipeline.analytics.diff import read_traffic_profile, voice_changes
from pipeline.analytics.one_call import priced_decks
from pipeline.warehouse.db import Warehouse

BASE = {
    "44": "0.0100",
    "447": "0.0310",
    "353": "0.0500",
    "35389": "0.1582",
    "49": "0.0120",
    "4915": "0.0450",
}
# each deck changes other prefixes on day two, so the route a row takes shows in the impact
DAY_TWO = {
    "021001": {**BASE, "35389": "0.1617", "4915": "0.0480"},
    "021002": {
        **{p: v for p, v in BASE.items() if p != "4915"},
        "447": "0.0290",
        "49": "0.0130",
        "49151": "0.0470",
    },
    "021003": {**BASE, "44": "0.0110", "353": "0.0550"},
}
DECKS = {tech_prefix: (BASE, day_two) for tech_prefix, day_two in DAY_TWO.items()}
TECH_PREFIXES = ["current", *DAY_TWO]
PROFILE = """number,minutes_per_month,tech_prefix
+44 20 7946 0958,1000,
+44 7700 900123,2500,
+353 89 123 4567,900,
+353 1 234 5678,300,
+49 151 2345 6789,6100,
+49 30 1234 5678,700,
+353 89 941 0000,55.5,current
+49 151 2345 0000,300,current
+44 7600 000000,12.25,021002
+49 152 0000,5,021002
+44 20 1234 5678,42,021003
+353 1 000 0000,7,021003
+353 89 000 0000,11,021001
"""
# the data below: current's latest download was 021001's deck (an earlier one 021002's);
# 021003 was once recorded as an alias of 021002 but has its own deck now, so is none
ALIASES_NOW = {"current": "021001"}
# a macro that says something else: the report must follow it, whatever it says
OTHER_RULE = (
    "CREATE OR REPLACE MACRO voice_deck_aliases() AS TABLE "
    "SELECT 'current' AS tech_prefix, '021002' AS same_as"
)
# a file published before the macro existed (the report reads none of the LPM macros)
BEFORE_THE_MACRO = "DROP MACRO voice_deck_of; DROP MACRO TABLE voice_deck_aliases"


def load_history(con, decks) -> None:
    for tech_prefix, day_two in DAY_TWO.items():
        decks.snapshot(tech_prefix, T0, rates(BASE))
        decks.snapshot(tech_prefix, T1, rates(day_two))
    record_alias(con, "current", same_as="021002", at=T0)
    record_alias(con, "current", same_as="021001", at=T1)
    record_alias(con, "021003", same_as="021002", at=T0)


def record_alias(con, tech_prefix: str, *, same_as: str, at) -> None:
    """A download by ``tech_prefix`` at ``at`` of the very deck ``same_as`` loaded then."""
    con.execute(
        "INSERT INTO voice_deck_alias SELECT ?, tech_prefix, snapshot_id, fetched_at, "
        "content_sha256, raw_path FROM voice_snapshot WHERE tech_prefix = ? AND fetched_at = ?",
        [tech_prefix, same_as, at],
    )


@pytest.mark.parametrize(
    ("change", "aliases"),
    [("", ALIASES_NOW), (OTHER_RULE, {"current": "021002"}), (BEFORE_THE_MACRO, {})],
    ids=["current file", "the macro says otherwise", "published before the macro"],
)
def test_the_report_routes_aliases_by_the_rule_lookup_applies(
    con, decks, settings, tmp_path, change, aliases
):
    load_history(con, decks)
    if change:
        con.execute(change)
    con.close()  # published: the report reads it read-only, as `ratedeck report` does
    profile = tmp_path / "traffic.csv"
    profile.write_text(PROFILE)
    traffic = read_traffic_profile(profile, tech_prefixes=TECH_PREFIXES)

    with Warehouse(settings).reader() as reader:
        assert priced_decks(reader).aliases == aliases  # what lookup and cost price
        frame = voice_changes(reader, traffic=traffic, default_route="current")

    assert impact_by_change(frame) == reference_impact(traffic, "current", DECKS, aliases)


def test_the_data_tells_the_routes_apart(tmp_path):
    """Each route of "current" gives other values: a report that routed it otherwise fails."""
    profile = tmp_path / "traffic.csv"
    profile.write_text(PROFILE)
    traffic = read_traffic_profile(profile, tech_prefixes=TECH_PREFIXES)
    routes = [ALIASES_NOW, {"current": "021002"}, {"current": "021003"}, {}]
    impacts = [reference_impact(traffic, "current", DECKS, aliases) for aliases in routes]
    assert all(a != b for i, a in enumerate(impacts) for b in impacts[i + 1 :])
