"""Issue 16.4 in Dagster: the balance_reconciles check of a cdr_costs partition fails when the
day's balance spend is beyond reconcile.tolerance_pct of its costed calls (Dagster's own
materialize, a real warehouse)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import dagster as dg
import pytest
from support.cdr import DAY, HISTORY, asterisk_line, cdr_settings, insert_history, write_master

from pipeline.defs import build_definitions
from pipeline.stages.cdr import import_file
from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.migrate import read_sql

OPENING = Decimal("100")
COST = Decimal("0.05")  # one 60 s call to Ireland at 0.05/min


@pytest.fixture
def settings(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    settings = cdr_settings(
        tmp_path / "data", folder=str(inbox), settle_s=0, partitions_start="2026-11-01"
    )
    insert_history(settings, HISTORY)
    lines = [asterisk_line("a", "35312345", DAY + timedelta(hours=1), 60)]
    import_file(settings, write_master(tmp_path / "m.csv", lines))
    return settings


def spend(settings, amount: Decimal, day: datetime = DAY) -> None:
    with Warehouse(settings).writer() as con:
        for n, (at, balance) in enumerate(
            [(day - timedelta(hours=1), OPENING), (day + timedelta(hours=2), OPENING - amount)]
        ):
            con.execute(
                read_sql("queries/balance_snapshot_insert.sql"),
                [n + 1, at, "a@example.com", balance, 0, 0, "x", "raw"],
            )


def check_day(settings, partition_key: str = "2026-12-01") -> dg.AssetCheckEvaluation:
    defs = build_definitions(settings)
    result = dg.materialize(
        [*defs.assets],
        selection=dg.AssetSelection.assets("cdr_costs"),
        partition_key=partition_key,
        instance=dg.DagsterInstance.ephemeral(),
        resources=defs.resources,
    )
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.check_name == "balance_reconciles"
    return evaluation


@pytest.mark.parametrize(
    ("spent", "passed"),
    [(COST, True), (COST * Decimal("1.02"), True), (COST * Decimal("1.03"), False)],
)
def test_the_check_fails_beyond_tolerance(settings, spent, passed):
    spend(settings, spent)
    evaluation = check_day(settings)
    assert evaluation.passed is passed
    metadata = {k: v.value for k, v in evaluation.metadata.items()}
    assert Decimal(metadata["own_cost"]) == COST and Decimal(metadata["spend"]) == spent
    assert Decimal(metadata["difference"]) == spent - COST


def test_a_day_without_balance_snapshots_passes(settings):
    evaluation = check_day(settings)
    assert evaluation.passed and evaluation.metadata["compared"].value is False


def test_spend_on_a_day_without_costed_calls_fails(settings):
    spend(settings, Decimal("30"), DAY + timedelta(days=1))  # debited; the switch made no call
    evaluation = check_day(settings, "2026-12-02")
    assert evaluation.passed is False
    metadata = {k: v.value for k, v in evaluation.metadata.items()}
    assert metadata["compared"] is True
    assert (Decimal(metadata["spend"]), Decimal(metadata["own_cost"])) == (30, 0)
    assert Decimal(metadata["difference"]) == 30
