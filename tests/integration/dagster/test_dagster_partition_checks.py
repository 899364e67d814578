"""Issue 15 item 3: the feeds' checks are partitioned like their assets, so the instance keeps
each tech prefix's latest result: one prefix passing does not hide another failing."""

from __future__ import annotations

import dagster as dg
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from pipeline.defs import build_definitions

COLLAPSED = dg.AssetCheckKey(dg.AssetKey("voice_deck"), "row_count_not_collapsed")


def latest_status(instance: dg.DagsterInstance, partition: str | None):
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [COLLAPSED], partition_filter=PartitionKeyFilter(key=partition)
    )
    return latest[COLLAPSED].status if COLLAPSED in latest else None


def test_a_failing_prefix_stays_visible_when_another_passes(
    make_settings, emulator_at, market_days, api_warnings
):
    settings = make_settings(voice={"tech_prefixes": ["current", "021001"]}, sms={"channels": []})
    defs = build_definitions(settings)
    instance = dg.DagsterInstance.ephemeral()

    def run(partition: str) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            list(defs.assets or []),
            selection=dg.AssetSelection.groups("voice"),
            partition_key=partition,
            resources=defs.resources,
            instance=instance,
            raise_on_error=False,
        )

    assert run("current").success  # day 1: current's baseline
    emulator_at.set_market_date(market_days[1])
    emulator_at.set_faults("collapse")  # both decks shrink; only current had more rows before
    with api_warnings():
        failed, passed = run("current"), run("021001")  # the passing one last
    assert not failed.success and passed.success

    [evaluation] = [e for e in failed.get_asset_check_evaluations() if not e.passed]
    assert (evaluation.check_name, evaluation.partition) == (COLLAPSED.name, "current")
    failed_status = AssetCheckExecutionRecordStatus.FAILED
    assert latest_status(instance, "current") == failed_status
    assert latest_status(instance, "021001") == AssetCheckExecutionRecordStatus.SUCCEEDED
    assert latest_status(instance, None) is None  # nothing recorded without a partition

    history = instance.event_log_storage.get_asset_check_execution_history(COLLAPSED, limit=10)
    assert [(r.partition, r.status) for r in history] == [
        ("021001", AssetCheckExecutionRecordStatus.SUCCEEDED),
        ("current", failed_status),
        ("current", AssetCheckExecutionRecordStatus.SUCCEEDED),
    ]
