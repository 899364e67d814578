"""The CDR feed in Dagster, with Dagster's own machinery: the cdr_files sensor imports new
files and asks for the partitions they touch (build_sensor_context), a cdr_costs partition
materialises (materialize), and a backfill run recosts the day, logged."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from decimal import Decimal

import dagster as dg
import pytest
from support.cdr import DAY, HISTORY, asterisk_line, cdr_settings, insert_history, query

from pipeline.defs import build_definitions
from pipeline.defs.cdr import backfill_of


@pytest.fixture
def inbox(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


@pytest.fixture
def settings(tmp_path, inbox):
    settings = cdr_settings(
        tmp_path / "data", folder=str(inbox), settle_s=0, partitions_start="2026-11-01"
    )
    insert_history(settings, HISTORY)
    return settings


def drop_file(inbox, name: str, lines: list[str]):
    staged = inbox.parent / name
    staged.write_text("".join(lines))
    shutil.move(staged, inbox / name)


def evaluate(defs: dg.Definitions, cursor: str | None, resources: dict | None = None):
    """One tick, with the code location's resources (as the daemon gives them) or others."""
    sensor = defs.resolve_sensor_def("cdr_files")
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_sensor_context(
            instance=instance,
            cursor=cursor,
            definitions=defs,
            resources=defs.resources if resources is None else resources,
        )
        return sensor(context)


def test_the_sensor_imports_new_files_and_requests_their_days(settings, inbox):
    defs = build_definitions(settings)
    drop_file(
        inbox,
        "Master-1.csv",
        [
            asterisk_line("a", "35312345", DAY + timedelta(hours=1), 60),
            asterisk_line("b", "35312345", DAY + timedelta(days=1, hours=1), 60),
        ],
    )
    (inbox / "Master-2.csv.part").write_text("half a file")  # a copy still under way
    first = evaluate(defs, None)
    assert sorted(r.partition_key for r in first.run_requests) == ["2026-12-01", "2026-12-02"]
    assert query(settings, "SELECT count(*) FROM cdr_call") == [(2,)]

    second = evaluate(defs, first.cursor)  # nothing new: no run, nothing imported again
    assert second.run_requests == []
    assert query(settings, "SELECT count(*) FROM cdr_file") == [(1,)]

    drop_file(inbox, "Master-2.csv", [asterisk_line("c", "35312345", DAY + timedelta(hours=2), 6)])
    third = evaluate(defs, second.cursor)
    assert [r.partition_key for r in third.run_requests] == ["2026-12-01"]
    assert third.run_requests[0].run_key != first.run_requests[0].run_key


def test_a_bad_file_is_logged_and_skipped_not_retried_every_tick(settings, inbox):
    defs = build_definitions(settings)
    (inbox / "broken.csv").write_text("not,a,cdr\n")
    first = evaluate(defs, None)
    assert first.run_requests == []
    assert "broken.csv" in first.cursor


def materialize_day(settings, day: str, tags: dict | None = None):
    defs = build_definitions(settings)
    return dg.materialize(
        [*defs.assets],
        selection=dg.AssetSelection.assets("cdr_costs"),
        partition_key=day,
        instance=dg.DagsterInstance.ephemeral(),
        tags=tags,
        resources=defs.resources,
    )


def test_a_partition_costs_its_day_and_a_backfill_recosts_it(settings, inbox):
    from pipeline.stages.cdr import import_file

    drop_file(inbox, "m.csv", [asterisk_line("a", "35312345", DAY + timedelta(hours=1), 60)])
    import_file(settings, inbox / "m.csv")

    result = materialize_day(settings, "2026-12-01")
    [event] = result.asset_materializations_for_node("cdr_costs")
    metadata = {k: v.value for k, v in event.metadata.items()}
    assert (metadata["calls_costed"], metadata["day_total"]) == (1, "0.05000000")
    assert metadata["previous_total"] == "never costed" and metadata["recost"] is False

    again = materialize_day(settings, "2026-12-01")  # a plain run: nothing to recost
    [event] = again.asset_materializations_for_node("cdr_costs")
    assert event.metadata["calls_costed"].value == 0

    backfill = materialize_day(settings, "2026-12-01", tags={"dagster/backfill": "bf1"})
    [event] = backfill.asset_materializations_for_node("cdr_costs")
    assert event.metadata["recost"].value is True
    [log] = query(
        settings, "SELECT who, why, old_total, new_total FROM cdr_costing_log WHERE recost"
    )
    assert "(backfill bf1)" in log[0] and log[1] == "Dagster backfill"
    assert log[2:] == (Decimal("0.05"), Decimal("0.05"))


def test_no_folder_no_cdr_assets(tmp_path):
    defs = build_definitions(cdr_settings(tmp_path / "data"))
    assert "cdr_costs" not in {key.to_user_string() for a in defs.assets for key in a.keys}


def test_a_busy_warehouse_leaves_the_file_for_the_next_tick(settings, inbox, monkeypatch):
    import fcntl

    from pipeline.defs import cdr as cdr_defs
    from pipeline.warehouse.db import Warehouse

    monkeypatch.setattr(cdr_defs, "TICK_BUDGET_S", 0.2)  # how long the tick waits for the lock
    defs = build_definitions(settings)
    drop_file(inbox, "m.csv", [asterisk_line("a", "35312345", DAY, 60)])
    with open(Warehouse(settings).lock_path, "a+") as lock:  # a load holds the warehouse
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        busy = evaluate(defs, None)
        fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    assert busy.run_requests == [] and "m.csv" not in busy.cursor
    free = evaluate(defs, busy.cursor)
    assert [r.partition_key for r in free.run_requests] == ["2026-12-01"]


def spend_five_cents(settings) -> None:
    """Balance snapshots around 2026-12-01: 0.05 spent that day."""
    from pipeline.warehouse.db import Warehouse
    from pipeline.warehouse.migrate import read_sql

    with Warehouse(settings).writer() as con:
        for n, (at, balance) in enumerate(
            [
                (DAY - timedelta(hours=1), Decimal("10")),
                (DAY + timedelta(hours=23), Decimal("9.95")),
            ]
        ):
            con.execute(
                read_sql("queries/balance_snapshot_insert.sql"),
                [n + 1, at, "a@example.com", balance, Decimal(0), Decimal(0), "x", "raw"],
            )


def test_the_warehouse_resource_overrides_reach_the_cdr_sensor_asset_and_check(
    settings, inbox, tmp_path
):
    """A deployment (or one launchpad run) that points the warehouse resource elsewhere gets
    its CDR imports, costs and checks there, as the voice and SMS assets do."""
    from pipeline.defs.resources import WarehouseResource

    elsewhere = settings.with_overrides(paths={"data_dir": str(tmp_path / "elsewhere")})
    insert_history(elsewhere, HISTORY)
    spend_five_cents(elsewhere)
    defs = build_definitions(settings)
    drop_file(inbox, "m.csv", [asterisk_line("a", "35312345", DAY + timedelta(hours=1), 60)])

    moved = {"warehouse": WarehouseResource(data_dir=str(elsewhere.data_dir))}
    tick = evaluate(defs, None, resources=moved)
    assert [r.partition_key for r in tick.run_requests] == ["2026-12-01"]
    assert query(elsewhere, "SELECT call_id FROM cdr_call") == [("a",)]
    assert list((elsewhere.data_dir / "raw" / "cdr").rglob("*.csv"))  # landed there too
    assert query(settings, "SELECT count(*) FROM cdr_call") == [(0,)]

    launchpad = {"resources": {"warehouse": {"config": {"data_dir": str(elsewhere.data_dir)}}}}
    result = dg.materialize(
        [*defs.assets],
        selection=dg.AssetSelection.assets("cdr_costs"),
        partition_key="2026-12-01",
        instance=dg.DagsterInstance.ephemeral(),
        resources=defs.resources,
        run_config=launchpad,
    )
    assert result.success
    assert query(elsewhere, "SELECT call_id, cost FROM cdr_cost") == [("a", Decimal("0.05"))]
    assert query(settings, "SELECT count(*) FROM cdr_cost") == [(0,)]
    [check] = result.get_asset_check_evaluations()
    # the check compared the day where it was costed (the configured warehouse has no calls)
    assert check.check_name == "balance_reconciles" and check.passed
    assert check.metadata["compared"].value is True
    assert check.metadata["own_cost"].value == "0.05000000"


def evaluate_tick(defs: dg.Definitions, cursor: str | None):
    """One tick as the daemon evaluates it: Dagster checks every requested partition exists."""
    sensor = defs.resolve_sensor_def("cdr_files")
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_sensor_context(
            instance=instance, cursor=cursor, definitions=defs, resources=defs.resources
        )
        return sensor.evaluate_tick(context)


def test_a_call_dated_after_today_neither_fails_the_tick_nor_blocks_later_files(settings, inbox):
    # a switch with its clock years ahead: Dagster has no partition for that day, and asking
    # for one failed the tick, every tick, before the cursor could move past the file
    defs = build_definitions(settings)
    future = DAY.replace(year=2031)
    drop_file(
        inbox,
        "Master-1.csv",
        [
            asterisk_line("a", "35312345", DAY + timedelta(hours=1), 60),
            asterisk_line("f", "35312345", future, 60),
        ],
    )
    first = evaluate_tick(defs, None)
    assert [r.partition_key for r in first.run_requests] == ["2026-12-01"]
    drop_file(inbox, "Master-2.csv", [asterisk_line("z", "35312345", DAY + timedelta(hours=2), 6)])
    second = evaluate_tick(defs, first.cursor)
    assert [r.partition_key for r in second.run_requests] == ["2026-12-01"]
    assert query(settings, "SELECT count(*) FROM cdr_call") == [(3,)]  # every call imported


def test_the_cursor_forgets_files_gone_from_the_folder(settings, inbox):
    defs = build_definitions(settings)
    drop_file(inbox, "a.csv", [asterisk_line("a", "35312345", DAY + timedelta(hours=1), 60)])
    drop_file(inbox, "b.csv", [asterisk_line("b", "35312345", DAY + timedelta(hours=2), 60)])
    first = evaluate(defs, None)
    assert sorted(json.loads(first.cursor)) == ["a.csv", "b.csv"]
    (inbox / "a.csv").unlink()  # archived by the switch's rotation
    second = evaluate(defs, first.cursor)
    assert sorted(json.loads(second.cursor)) == ["b.csv"]
    assert second.run_requests == []


def test_a_re_executed_backfill_run_still_recosts_its_day():
    # Dagster leaves the backfill tags off a re-executed run once its backfill is over; the
    # run it repeats (its root) says the day was to be recosted
    with dg.DagsterInstance.ephemeral() as instance:
        day = {"dagster/partition": "2026-12-01"}
        first = dg.DagsterRun(
            job_name="cdr_costs_job", run_id="a" * 8, tags={**day, "dagster/backfill": "bf1"}
        )
        again = dg.DagsterRun(
            job_name="cdr_costs_job", run_id="b" * 8, tags=day, root_run_id=first.run_id,
            parent_run_id=first.run_id,
        )  # fmt: skip
        plain = dg.DagsterRun(job_name="cdr_costs_job", run_id="c" * 8, tags=day)
        for run in (first, again, plain):
            instance.add_run(run)
        assert [backfill_of(run, instance) for run in (first, again, plain)] == ["bf1", "bf1", None]


def test_the_sensor_warns_of_a_corrected_call_it_refused(settings, inbox, capfd):
    defs = build_definitions(settings)
    drop_file(inbox, "a.csv", [asterisk_line("a", "35312345", DAY + timedelta(hours=1), 60)])
    first = evaluate(defs, None)
    drop_file(inbox, "b.csv", [asterisk_line("a", "35312345", DAY + timedelta(hours=1), 65)])
    capfd.readouterr()
    evaluate(defs, first.cursor)  # Dagster's log handler writes the tick's log to stderr
    assert (
        "cdr import b.csv: 1 row(s) refused as a call already stored with other values; the "
        "stored calls stand (reasons: ingest_reject, kind cdr, snapshot_id 2)"
        in capfd.readouterr().err
    )
    assert query(settings, "SELECT call_id, billsec FROM cdr_call") == [("a", 60)]
