"""Issue 16 items 2 and 9: the days of a backfill are priced side by side, outside the
warehouse's writer lock, and only their commits take turns. Two days recosted at once in two
processes store exactly the rows of a sequential run and of the brute-force reference; what
changed between a day's read and its commit (a deck, a costing of the same day) is seen by
the commit; a commit killed halfway leaves the day as it was."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from support import cdr_backfill_driver
from support.bodies import ingest_result, voice_rate_frame
from support.cdr import (
    DAY,
    HISTORY,
    asterisk_line,
    cdr_settings,
    generated_calls,
    insert_history,
    query,
    reference_costs,
    warehouse_history,
    write_master,
)

from pipeline.settings import Settings
from pipeline.stages.cdr import commit_day, cost_days, import_file, stage_day
from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.voice import load_voice_snapshot

DRIVER = Path(cdr_backfill_driver.__file__)
REPO = Path(__file__).resolve().parents[3]
D1, D2 = date(2026, 12, 1), date(2026, 12, 2)
# every column of cdr_cost but costed_at and costing_run (when and which run)
COST_ROWS = (
    "SELECT call_id, call_day, started_at, tech_prefix, rated_on, number, billsec, "
    "matched_prefix, destination, price, initial_seconds, increment_seconds, billed_seconds, "
    "cost, currency, rate_valid_from FROM cdr_cost ORDER BY call_id"
)


def costed_warehouse(data_dir: Path, calls) -> Settings:
    """A warehouse with HISTORY and ``calls`` imported and costed once."""
    settings = cdr_settings(data_dir)
    insert_history(settings, HISTORY)
    lines = [asterisk_line(c, d, s, b, answered) for c, d, s, b, answered in calls]
    import_file(settings, write_master(data_dir.parent / f"{data_dir.name}.csv", lines))
    days = sorted({start.date() for _, _, start, _, _ in calls})
    assert [c.day for c in cost_days(settings)] == days
    return settings


def repair_prices(settings) -> None:
    """Corrected history (by hand, in place): what a backfill is run for."""
    with Warehouse(settings).writer() as con:
        con.execute("UPDATE voice_rate SET price = price + 0.01 WHERE prefix IN ('44', '353')")


def cost_rows(settings) -> list[tuple]:
    return query(settings, COST_ROWS)


def as_reference(rows: list[tuple]) -> dict[str, tuple]:
    """cdr_cost rows in reference_costs' shape."""
    return {r[0]: (r[3], r[7], r[9], r[12], r[13]) for r in rows}


def start_driver(settings, day: date, tmp_path: Path, *mode: str) -> tuple[subprocess.Popen, Path]:
    staged = tmp_path / f"{day}.staged"
    child = subprocess.Popen(
        [
            sys.executable,
            str(DRIVER),
            str(settings.data_dir),
            day.isoformat(),
            str(staged),
            str(tmp_path / "go"),
            *mode,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return child, staged


def wait_for(paths: list[Path], children: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + 120
    while not all(p.exists() for p in paths):
        for child in children:
            assert child.poll() is None, child.stderr.read()
        assert time.monotonic() < deadline, "the drivers never finished pricing"
        time.sleep(0.02)


@pytest.mark.slow  # two child processes, each importing the pipeline (about 3 s)
def test_two_days_recosted_at_once_store_what_a_sequential_run_stores(tmp_path):
    calls = generated_calls(600, seed=9, days=2)
    parallel = costed_warehouse(tmp_path / "parallel", calls)
    sequential = costed_warehouse(tmp_path / "sequential", calls)
    for settings in (parallel, sequential):
        repair_prices(settings)

    drivers = [start_driver(parallel, day, tmp_path) for day in (D1, D2)]
    children = [child for child, _ in drivers]
    wait_for([staged for _, staged in drivers], children)  # both read before either commits
    (tmp_path / "go").write_text("go")
    outcomes = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        outcomes.append(json.loads(out))
    for day in (D1, D2):
        cost_days(sequential, [day], recost=True, who="sequential", why="backfill")

    rows = cost_rows(parallel)
    assert rows == cost_rows(sequential)
    expected = reference_costs(calls, warehouse_history(parallel))
    assert as_reference(rows) == expected
    # each day's commit found what it read unchanged: another day's commit is no reason to
    # price again
    assert [o["recomputed"] for o in outcomes] == ["False", "False"]
    assert {o["day"] for o in outcomes} == {"2026-12-01", "2026-12-02"}
    log = query(
        parallel,
        "SELECT call_day, calls, old_total, new_total FROM cdr_costing_log WHERE recost "
        "ORDER BY call_day",
    )
    ids = {day: day_ids(parallel, day) for day in (D1, D2)}  # one query a day, not a call
    totals = {
        day: sum((e[4] for c, e in expected.items() if e[4] and c in ids[day]), Decimal(0))
        for day in (D1, D2)
    }
    assert [(r[0], r[3]) for r in log] == [(D1, totals[D1]), (D2, totals[D2])]
    assert all(r[2] != r[3] for r in log)  # the repair changed both days' totals


def day_ids(settings, day: date) -> set[str]:
    return {r[0] for r in query(settings, "SELECT call_id FROM cdr_call WHERE call_day = ?", [day])}


@pytest.mark.slow  # a child process, SIGKILLed
def test_a_commit_killed_halfway_leaves_the_day_as_it_was(tmp_path):
    calls = generated_calls(300, seed=5, days=1)
    settings = costed_warehouse(tmp_path / "data", calls)
    before = cost_rows(settings)
    log_before = query(settings, "SELECT count(*) FROM cdr_costing_log")
    repair_prices(settings)

    child, staged = start_driver(settings, D1, tmp_path, "kill-in-commit")
    wait_for([staged], [child])
    (tmp_path / "go").write_text("go")
    child.communicate(timeout=120)
    assert child.returncode == -signal.SIGKILL  # killed after the update, before COMMIT

    assert cost_rows(settings) == before  # no half day: every cost as it was
    assert query(settings, "SELECT count(*) FROM cdr_costing_log") == log_before
    [again] = cost_days(settings, [D1], recost=True, why="after the crash")
    assert (again.recost, again.recomputed) == (True, False)
    assert as_reference(cost_rows(settings)) == reference_costs(calls, warehouse_history(settings))


def load_deck(settings, fetched_at, rows) -> None:
    with Warehouse(settings).writer() as con:
        load_voice_snapshot(
            con,
            tech_prefix="current",
            fetched_at=fetched_at,
            content_sha256=f"{fetched_at:%Y%m%d%H%M}".ljust(64, "0"),
            raw_path=f"raw/voice/current/{fetched_at:%Y%m%d%H%M}.csv",
            result=ingest_result(voice_rate_frame(rows)),
        )


def test_a_deck_committed_after_the_read_prices_the_calls_made_after_it(tmp_path):
    """Today's partition is costed while a deck arrives: the day's read saw the old price
    open-ended, the commit sees the new deck and prices the day again, each call as of its
    own start."""
    settings = cdr_settings(tmp_path / "data")
    load_deck(settings, DAY - timedelta(days=1), [("353", "Ireland", "0.05", 1, 1, None)])
    path = write_master(
        tmp_path / "m.csv",
        [
            asterisk_line("early", "35312345", DAY + timedelta(hours=8), 60),
            asterisk_line("late", "35312345", DAY + timedelta(hours=20), 60),
        ],
    )
    import_file(settings, path)
    staged = stage_day(settings, D1, recost=False)
    # the new deck arrives at 14:00, between the day's read and its commit
    load_deck(settings, DAY + timedelta(hours=14), [("353", "Ireland", "0.09", 1, 1, None)])
    with Warehouse(settings).writer() as con:
        costing = commit_day(con, settings, staged, who="test", why="today")

    assert costing.recomputed
    assert query(settings, "SELECT call_id, price, cost FROM cdr_cost ORDER BY 1") == [
        ("early", Decimal("0.05"), Decimal("0.05")),
        ("late", Decimal("0.09"), Decimal("0.09")),
    ]
    assert costing.new_total == Decimal("0.14")


def test_a_day_costed_by_another_run_meanwhile_is_not_costed_twice(tmp_path):
    calls = generated_calls(100, seed=3, days=1)
    settings = cdr_settings(tmp_path / "data")
    insert_history(settings, HISTORY)
    lines = [asterisk_line(c, d, s, b, answered) for c, d, s, b, answered in calls]
    import_file(settings, write_master(tmp_path / "m.csv", lines))
    staged = stage_day(settings, D1, recost=False)
    [other] = cost_days(settings, [D1], who="the sensor's run")  # commits first
    with Warehouse(settings).writer() as con:
        late = commit_day(con, settings, staged, who="a manual run", why="")

    assert late.recomputed and (late.costing_run, late.calls) == (None, 0)
    assert query(settings, "SELECT count(*), count(DISTINCT call_id) FROM cdr_cost") == [
        (other.calls, other.calls)
    ]
    assert query(settings, "SELECT count(*) FROM cdr_costing_log") == [(1,)]
    assert as_reference(cost_rows(settings)) == reference_costs(calls)


def test_a_failed_commit_rolls_the_whole_day_back(tmp_path, monkeypatch):
    calls = generated_calls(100, seed=4, days=1)
    settings = costed_warehouse(tmp_path / "data", calls)
    before = cost_rows(settings)
    repair_prices(settings)
    import pipeline.warehouse.cdr as warehouse_cdr

    real = warehouse_cdr.read_sql

    def broken_log(name: str) -> str:  # the log insert fails after the costs were updated
        return "SELECT no_such_column" if name.endswith("costing_log_insert.sql") else real(name)

    monkeypatch.setattr(warehouse_cdr, "read_sql", broken_log)
    with pytest.raises(Exception, match="no_such_column"):
        cost_days(settings, [D1], recost=True)
    monkeypatch.undo()

    assert cost_rows(settings) == before
