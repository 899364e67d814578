"""The Dagster assets, materialised with Dagster's own ``materialize`` against the emulator:
metadata on the events, blocking checks that keep a collapsed deck out of the warehouse,
SMS/balance/report, and no deprecation or preview warning on the way."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import dagster as dg
import pytest

from pipeline.defs import build_definitions, group_selection
from pipeline.orchestrate import run_pipeline
from pipeline.settings import Settings
from pipeline.warehouse.db import Warehouse

VOICE_CHECKS = {
    "non_empty",
    "no_duplicate_prefix",
    "prices_not_negative",
    "row_count_not_collapsed",
}


def materialize_group(
    settings: Settings, group: str, partition: str | None, instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    defs = build_definitions(settings)
    return dg.materialize(
        [*defs.assets, *defs.asset_checks],
        selection=group_selection(group, settings),
        partition_key=partition,
        instance=instance,
        raise_on_error=False,
        resources=defs.resources,
    )


def metadata_of(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    [materialization] = result.asset_materializations_for_node(asset)
    return dict(materialization.metadata)


def warehouse_state(settings: Settings) -> tuple:
    """The published file's bytes and what an analyst would count in it."""
    wh = Warehouse(settings)
    digest = hashlib.sha256(wh.published_path.read_bytes()).hexdigest()
    with wh.reader() as con:
        counts = con.execute(
            "SELECT (SELECT count(*) FROM voice_snapshot), (SELECT count(*) FROM voice_rate)"
        ).fetchall()[0]
    return digest, counts


def test_voice_partition_materializes_with_metadata(
    settings, dg_emulator, market_days, api_warnings
):
    deck = dg_emulator.market.day(market_days[0]).voice_deck("current")
    with api_warnings():
        result = materialize_group(settings, "voice", "current", dg.DagsterInstance.ephemeral())
    assert result.success

    raw = metadata_of(result, "voice_deck_raw")
    normalised = metadata_of(result, "voice_deck")
    history = metadata_of(result, "voice_rate_history")
    assert (settings.data_dir / raw["path"].value).is_file()
    assert normalised["rows"].value == len(deck)
    assert normalised["rejects"].value == 0
    preview = normalised["preview"]
    assert isinstance(preview, dg.MarkdownMetadataValue)
    assert preview.value.splitlines()[0].startswith("| ")
    assert "prefix" in preview.value.splitlines()[0]
    assert len(preview.value.splitlines()) == 2 + 10  # header, rule, ten rows
    assert history["rates_opened"].value == len(deck)
    assert history["rows"].value == len(deck)
    assert history["rejects"].value == 0
    assert history["changes"].value == 0  # the first snapshot is the baseline

    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == dict.fromkeys(VOICE_CHECKS, True)

    with Warehouse(settings).reader() as con:
        snapshots = con.execute("SELECT tech_prefix, row_count FROM voice_snapshot").fetchall()
        rates = con.execute("SELECT count(*) FROM voice_rate_current").fetchall()[0][0]
        currencies = con.execute("SELECT DISTINCT currency FROM voice_rate").fetchall()
    assert snapshots == [("current", len(deck))]
    assert rates == len(deck)
    assert currencies == [(settings.report.currency,)]  # the deck names none: the account's


def test_failing_blocking_check_stops_the_load(
    make_settings, emulator_at, market_days, api_warnings
):
    settings = make_settings(voice={"tech_prefixes": ["current"]}, sms={"channels": []})
    instance = dg.DagsterInstance.ephemeral()
    assert run_pipeline(settings, ["voice"], instance=instance, report=False).ok  # clean day 1
    before = warehouse_state(settings)

    emulator_at.set_market_date(market_days[1])
    emulator_at.set_faults("collapse")  # every 20th row: what a truncated download looks like
    with api_warnings():
        result = materialize_group(settings, "voice", "current", instance)

    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {**dict.fromkeys(VOICE_CHECKS, True), "row_count_not_collapsed": False}
    assert result.asset_materializations_for_node("voice_rate_history") == []
    ran = {e.step_key for e in result.all_events if e.is_step_success}
    assert ran == {"voice_deck_raw"}  # the blocking check fails voice_deck: nothing loads
    assert warehouse_state(settings) == before

    summary = run_pipeline(settings, ["voice"], instance=instance, report=False)
    assert not summary.ok
    [failure] = summary.failures
    assert (failure.area, failure.partition) == ("voice", "current")
    assert failure.error.startswith("check row_count_not_collapsed failed")
    assert "\n" not in failure.error
    assert warehouse_state(settings) == before


@pytest.mark.slow  # four Dagster materializations
def test_sms_balance_and_report_materialize(settings, emulator_at, market_days, api_warnings):
    market = emulator_at.market
    channel = "acme:1"
    instance = dg.DagsterInstance.ephemeral()
    with api_warnings():
        day1 = materialize_group(settings, "sms", channel, instance)
        balance = materialize_group(settings, "balance", None, instance)
        emulator_at.set_market_date(market_days[1])
        day2 = materialize_group(settings, "sms", channel, instance)
        report = materialize_group(settings, "report", None, instance)
    assert day1.success and balance.success and day2.success and report.success

    rates = market.day(market_days[0]).sms_rates("acme", "1")
    normalised = metadata_of(day1, "sms_rates")
    assert normalised["rows"].value == len(rates)
    assert normalised["rejects"].value == 0
    assert isinstance(normalised["preview"], dg.MarkdownMetadataValue)
    assert metadata_of(day1, "sms_rate_history")["rates_opened"].value == len(rates)

    customer = market.day(market_days[0]).customer()
    assert Decimal(metadata_of(balance, "balance_snapshot")["balance"].value) == customer["balance"]
    assert metadata_of(balance, "low_balance_alert")["status"].value

    with Warehouse(settings).reader() as con:
        sms_changes = con.execute("SELECT count(*) FROM sms_rate_change").fetchall()[0][0]
    assert sms_changes > 0
    assert metadata_of(day2, "sms_rate_history")["changes"].value == sms_changes
    sent = metadata_of(report, "price_change_report")
    assert sent["changes"].value == sms_changes
    assert f"{sms_changes} SMS price change" in sent["subject"].value
    [eml] = settings.outbox_dir.glob("*.eml")
    assert sent["target"].value.endswith(eml.name)
