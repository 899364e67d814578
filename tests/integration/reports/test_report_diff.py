"""voice_changes on a real DuckDB warehouse: longest-prefix effect, reference call, traffic."""

from datetime import timedelta
from decimal import Decimal

import polars as pl
from support.reports import T0, T1, Rate

from pipeline.analytics.diff import read_traffic_profile, voice_changes

IRELAND = [
    Rate("353", "Ireland", "0.0500"),
    Rate("35389", "Ireland Mobile", "0.1582"),
    Rate("3538994", "Ireland Mobile - Premium", "0.2100"),
]


def by_prefix(frame: pl.DataFrame) -> dict[str, dict]:
    return {row["prefix"]: row for row in frame.to_dicts()}


def test_baseline_snapshot_yields_no_changes(con, decks):
    decks.snapshot("current", T0, IRELAND)
    assert voice_changes(con).is_empty()


def test_removed_child_falls_back_to_parent_price_after_the_change(con, decks):
    decks.snapshot("current", T0, IRELAND)
    # the parent changes in the same snapshot: the fallback is its NEW price
    decks.snapshot("current", T1, [IRELAND[0], Rate("35389", "Ireland Mobile", "0.1617")])
    rows = by_prefix(voice_changes(con))
    removed = rows["3538994"]
    assert removed["change_type"] == "removed"
    assert removed["parent_prefix"] == "35389"
    assert removed["parent_price"] == Decimal("0.1617")
    assert removed["effective_old_price"] == Decimal("0.2100")
    assert removed["effective_new_price"] == Decimal("0.1617")
    assert removed["effective_change_pct"] == Decimal("-23.0000")
    changed_parent = rows["35389"]
    assert changed_parent["change_type"] == "increase"
    assert changed_parent["parent_prefix"] is None
    assert changed_parent["effective_change_pct"] == Decimal("2.2124")


def test_removed_child_of_removed_parent_falls_back_to_grandparent(con, decks):
    decks.snapshot("current", T0, IRELAND)
    decks.snapshot("current", T1, [IRELAND[0]])
    rows = by_prefix(voice_changes(con))
    assert rows["3538994"]["parent_prefix"] == "353"
    assert rows["35389"]["parent_prefix"] == "353"
    assert rows["3538994"]["effective_new_price"] == Decimal("0.0500")


def test_new_child_reprices_part_of_the_parent_range(con, decks):
    decks.snapshot("current", T0, IRELAND[:2])
    decks.snapshot("current", T1, [*IRELAND[:2], Rate("353891", "Ireland Mobile - Eir", "0.1800")])
    new = by_prefix(voice_changes(con))["353891"]
    assert new["change_type"] == "new"
    assert (new["parent_prefix"], new["parent_price"]) == ("35389", Decimal("0.1582"))
    assert new["effective_old_price"] == Decimal("0.1582")
    assert new["effective_new_price"] == Decimal("0.1800")
    assert new["effective_change_pct"] == Decimal("13.7800")  # 0.0218 / 0.1582, half-up


def test_new_child_with_parent_changing_at_the_same_time_compares_to_the_old_parent(con, decks):
    decks.snapshot("current", T0, IRELAND[:2])
    decks.snapshot(
        "current",
        T1,
        [IRELAND[0], Rate("35389", "Ireland Mobile", "0.1700"), Rate("353891", "Eir", "0.1800")],
    )
    new = by_prefix(voice_changes(con))["353891"]
    assert new["parent_price"] == Decimal("0.1582")  # valid just before the change


def test_prefix_without_parent(con, decks):
    decks.snapshot("current", T0, [Rate("44", "UK", "0.0100"), Rate("49", "Germany", "0.0120")])
    decks.snapshot("current", T1, [Rate("44", "UK", "0.0100"), Rate("33", "France", "0.0120")])
    rows = by_prefix(voice_changes(con))
    assert rows["49"]["change_type"] == "removed" and rows["49"]["parent_prefix"] is None
    assert rows["49"]["effective_new_price"] is None
    assert rows["33"]["change_type"] == "new" and rows["33"]["effective_old_price"] is None
    assert rows["33"]["call_cost_direction"] is None


def test_per_minute_billing_is_an_increase_of_the_reference_call(con, decks):
    decks.snapshot("current", T0, [Rate("639", "Philippines Mobile", "0.1650", 1, 1)])
    decks.snapshot("current", T1, [Rate("639", "Philippines Mobile", "0.1650", 60, 60)])
    row = voice_changes(con, reference_call_seconds=150).row(0, named=True)
    assert row["change_type"] == "increment_change"
    assert (row["old_billed_seconds"], row["new_billed_seconds"]) == (150, 180)
    assert row["old_call_cost"] == Decimal("0.412500")  # 0.1650 * 150 / 60
    assert row["new_call_cost"] == Decimal("0.495000")
    assert row["call_cost_change_pct"] == Decimal("20.0000")
    assert row["call_cost_direction"] == "up"
    # a reference call of whole minutes cannot see per-minute rounding
    same = voice_changes(con, reference_call_seconds=180).row(0, named=True)
    assert same["call_cost_direction"] == "same"


def test_reference_call_cost_is_exact_and_rounded_half_up(con, decks):
    decks.snapshot("current", T0, [Rate("1", "USA", "0.00333333", 60, 6)])
    decks.snapshot("current", T1, [Rate("1", "USA", "0.00333334", 60, 6)])
    row = voice_changes(con, reference_call_seconds=61, cost_decimals=6).row(0, named=True)
    # billed 60 + ceil(1/6)*6 = 66 s; 0.00333333 * 66 / 60 = 0.003666663 -> 0.003667
    assert row["old_billed_seconds"] == 66
    assert row["old_call_cost"] == Decimal("0.003667")
    assert row["new_call_cost"] == Decimal("0.003667")  # 0.0036666740 -> 0.003667
    assert row["call_cost_direction"] == "same"


def test_filters_by_tech_prefix_and_since(con, decks):
    for tech_prefix in ("current", "021001"):
        decks.snapshot(tech_prefix, T0, [Rate("44", "UK", "0.0100")])
        decks.snapshot(tech_prefix, T1, [Rate("44", "UK", "0.0110")])
    decks.snapshot("current", T1 + timedelta(days=1), [Rate("44", "UK", "0.0120")])
    assert voice_changes(con).height == 3
    assert voice_changes(con, tech_prefix="021001").height == 1
    later = voice_changes(con, since=T1 + timedelta(hours=1))
    assert later["new_price"].to_list() == [Decimal("0.0120")]


def test_traffic_impact_follows_longest_prefix_match(con, decks, tmp_path):
    decks.snapshot("current", T0, IRELAND)
    decks.snapshot(
        "current",
        T1,
        [
            Rate("353", "Ireland", "0.0600"),
            Rate("35389", "Ireland Mobile", "0.1617"),
            Rate("353891", "Ireland Mobile - Eir", "0.1700"),
        ],
    )
    profile = tmp_path / "traffic.csv"
    profile.write_text(
        "number,minutes_per_month\n"
        "+353 1 234 5678,1000\n"  # Ireland fixed: 353 before and after
        "+353 89 222 3333,200\n"  # 35389 before and after
        "+353 89 123 4567,50.5\n"  # 35389 before, 353891 after: the new child's
        "+353 89 941 2345,10\n"  # 3538994 before, falls back to 35389
        "+44 20 7946 0958,999\n"  # no change touches it
    )
    frame = voice_changes(con, traffic=read_traffic_profile(profile))
    rows = by_prefix(frame)
    assert rows["353"]["monthly_minutes"] == Decimal("1000")
    assert rows["353"]["monthly_impact"] == Decimal("1000") * Decimal("0.0100")
    assert rows["35389"]["monthly_minutes"] == Decimal("200")
    assert rows["35389"]["monthly_impact"] == Decimal("200") * Decimal("0.0035")
    assert rows["353891"]["monthly_minutes"] == Decimal("50.5")
    assert rows["353891"]["monthly_impact"] == Decimal("50.5") * (
        Decimal("0.1700") - Decimal("0.1582")
    )
    assert rows["3538994"]["monthly_minutes"] == Decimal("10")
    assert rows["3538994"]["monthly_impact"] == Decimal("10") * (
        Decimal("0.1617") - Decimal("0.2100")
    )
    total = sum(frame["monthly_impact"].to_list(), Decimal(0))
    assert total == Decimal("10.0000") + Decimal("0.7000") + Decimal("0.5959") - Decimal("0.4830")


def test_traffic_rows_run_on_their_tech_prefix_else_the_default_route(con, decks, tmp_path):
    for tech_prefix in ("current", "021001"):
        decks.snapshot(tech_prefix, T0, [Rate("44", "UK", "0.0100")])
        decks.snapshot(tech_prefix, T1, [Rate("44", "UK", "0.0110")])
    profile = tmp_path / "traffic.csv"
    profile.write_text("prefix,minutes_per_month,tech_prefix\n44,100,021001\n4420,7,\n")
    frame = voice_changes(con, traffic=read_traffic_profile(profile), default_route="current")
    minutes = dict(zip(frame["tech_prefix"], frame["monthly_minutes"], strict=True))
    assert minutes == {"current": Decimal("7"), "021001": Decimal("100")}
