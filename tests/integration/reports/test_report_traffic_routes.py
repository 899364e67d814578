"""Issue 13.3: with a traffic profile, each minute counts once, on the route it takes.

A traffic row names a tech prefix, or runs on the default route (the first configured tech
prefix); it never counts once per tech prefix. Checked against a brute-force reference that
prices every traffic row by hand with a dict longest-prefix match."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
from support.reports import T0, T1
from support.traffic_impact import impact_by_change, rates, reference_impact

from pipeline.analytics.diff import read_traffic_profile, voice_changes

BASE = {
    "44": "0.0100",
    "447": "0.0310",
    "4477": "0.0330",
    "353": "0.0500",
    "35389": "0.1582",
    "3538994": "0.2100",
    "49": "0.0120",
    "4915": "0.0450",
}
# per tech prefix: the second day's deck (price changes, removals, new prefixes)
DAY_TWO = {
    "current": {
        **{p: v for p, v in BASE.items() if p != "3538994"},
        "44": "0.0110",
        "4477": "0.0342",
        "353891": "0.1700",
        "353899": "0.1900",  # replaces the removed, longer 3538994
    },
    "021001": {
        **{p: v for p, v in BASE.items() if p != "3538994"},
        "35389": "0.1617",
        "4915": "0.0480",
    },
    "021002": {
        **{p: v for p, v in BASE.items() if p != "4915"},
        "447": "0.0290",
        "49": "0.0130",
        "49151": "0.0470",  # replaces part of the removed, shorter 4915
    },
}
PROFILE = """number,minutes_per_month,tech_prefix
+44 20 7946 0958,1000,
+44 7700 900123,2500,
+44 7789 123456,400,
+353 89 123 4567,900,
+353 89 941 2345,400,
+49 151 2345 6789,6100,
+49 30 1234 5678,700,021002
+353 89 941 0000,55.5,021001
+44 7600 000000,12.25,021002
+353 89 900 0000,80,
+49 151 2345 0000,300,021002
+49 152 0000,5,021002
"""


DECKS = {tech_prefix: (BASE, day_two) for tech_prefix, day_two in DAY_TWO.items()}


def load_history(decks) -> None:
    for tech_prefix, day_two in DAY_TWO.items():
        decks.snapshot(tech_prefix, T0, rates(BASE))
        decks.snapshot(tech_prefix, T1, rates(day_two))


def test_each_minute_counts_once_on_its_route(con, decks, tmp_path):
    load_history(decks)
    profile = tmp_path / "traffic.csv"
    profile.write_text(PROFILE)
    traffic = read_traffic_profile(profile, tech_prefixes=list(DAY_TWO))
    frame = voice_changes(con, traffic=traffic, default_route="current")

    # one moment of change per route: no route counts more minutes than run on it (the old
    # code joined a row without a tech prefix to every tech prefix: up to 3x the minutes)
    routes = traffic.with_columns(pl.col("tech_prefix").fill_null("current"))
    offered = dict(routes.group_by("tech_prefix").agg(pl.col("minutes").sum()).iter_rows())
    per_route = frame.group_by("tech_prefix").agg(pl.col("monthly_minutes").sum())
    minutes = dict(per_route.iter_rows())
    assert all(minutes[route] <= offered[route] for route in minutes)
    assert sum(minutes.values()) <= sum(traffic["minutes"].to_list(), Decimal(0))
    # current: 44 1000, 4477 2500 + 400, 353891 900, 3538994 400 (not again for 353899), 353899
    # 80; 021002: 49 700, 447 12.25, 49151 300 (not again for 4915), 4915 5
    assert minutes == {
        "current": Decimal("5280"),
        "021001": Decimal("55.5"),
        "021002": Decimal("1017.25"),
    }

    assert impact_by_change(frame) == reference_impact(traffic, "current", DECKS)


def test_default_route_is_the_one_named(con, decks, tmp_path):
    load_history(decks)
    profile = tmp_path / "traffic.csv"
    profile.write_text("number,minutes_per_month\n+49 151 2345 6789,6100\n")
    traffic = read_traffic_profile(profile)
    frame = voice_changes(con, traffic=traffic, default_route="021001")
    impacted = frame.filter(pl.col("monthly_minutes") > 0)
    assert impacted.select("tech_prefix", "prefix", "monthly_minutes").rows() == [
        ("021001", "4915", Decimal("6100"))
    ]
    assert impacted["monthly_impact"].to_list() == [Decimal("6100") * Decimal("0.0030")]
    assert reference_impact(traffic, "021001", DECKS)[("021001", "4915")] == (
        Decimal("6100"),
        Decimal("6100") * Decimal("0.0030"),
    )


def test_an_alias_route_counts_on_the_deck_it_shares(con, decks, tmp_path):
    """ "current" downloaded the very deck 021001 holds (voice_deck_alias): its traffic is 021001's."""
    decks.snapshot("021001", T0, rates(BASE))
    decks.snapshot("021001", T1, rates(DAY_TWO["021001"]))
    decks.snapshot("021002", T0, rates(BASE))
    decks.snapshot("021002", T1, rates(DAY_TWO["021002"]))
    con.execute(
        "INSERT INTO voice_deck_alias SELECT 'current', tech_prefix, snapshot_id, fetched_at, "
        "content_sha256, raw_path FROM voice_snapshot WHERE tech_prefix = '021001'"
    )
    profile = tmp_path / "traffic.csv"
    profile.write_text("number,minutes_per_month\n+49 151 2345 6789,6100\n+49 30 1,9\n")
    frame = voice_changes(con, traffic=read_traffic_profile(profile), default_route="current")
    impacted = frame.filter(pl.col("monthly_minutes") > 0)
    assert impacted.select("tech_prefix", "prefix", "monthly_minutes").rows() == [
        ("021001", "4915", Decimal("6100"))
    ]
