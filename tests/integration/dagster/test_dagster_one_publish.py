"""``run_pipeline`` (``ratedeck run``) publishes once, at the end: while the run loads deck after
deck, analysts keep seeing the previous run whole; afterwards they see all of this one."""

from __future__ import annotations

import fcntl
import threading
import time

import dagster as dg

from pipeline.orchestrate import run_pipeline
from pipeline.settings import Settings
from pipeline.warehouse.db import Warehouse


def published_snapshots(settings: Settings) -> int:
    with Warehouse(settings).reader() as con:
        return con.execute("SELECT count(*) FROM voice_snapshot").fetchall()[0][0]


def test_a_run_is_published_once_at_its_end(settings, emulator_at, market_days):
    instance = dg.DagsterInstance.ephemeral()
    assert run_pipeline(settings, ["voice"], instance=instance, report=False).ok
    decks = len(settings.voice.tech_prefixes)
    assert published_snapshots(settings) == decks
    emulator_at.set_market_date(market_days[1])

    seen_during_the_run: list[int] = []
    summary = run_pipeline(
        settings,
        ["voice", "sms"],
        instance=instance,
        report=False,
        on_step=lambda _: seen_during_the_run.append(published_snapshots(settings)),
    )

    assert summary.ok and summary.unpublished is None
    # before each step, the 2nd deck and the SMS list included: still the first run, whole
    assert seen_during_the_run == [decks] * (decks + 1)
    assert published_snapshots(settings) == 2 * decks


def test_a_failed_publish_marks_the_steps_done_but_unpublished(settings, emulator_at):
    """The published file's folder cannot be made (a file is in the way): the steps' loads are
    committed, the run says why they are not published, and the next publish shows them."""
    instance = dg.DagsterInstance.ephemeral()
    assert run_pipeline(settings, ["voice"], instance=instance, report=False).ok
    blocker = settings.data_dir / "not-a-folder"
    blocker.write_text("a file where the published file's folder should be")
    blocked = settings.model_copy(
        update={"warehouse": settings.warehouse.model_copy(update={"path": blocker / "w.duckdb"})}
    )

    summary = run_pipeline(blocked, ["balance"], instance=instance, report=False)

    assert summary.ok
    assert summary.unpublished == f"{blocker}: File exists"
    assert [s.unpublished for s in summary.steps] == [summary.unpublished]
    assert Warehouse(settings).publish() is True  # what the next run's publish does
    with Warehouse(settings).reader() as con:
        assert con.execute("SELECT count(*) FROM balance_snapshot").fetchall() == [(1,)]


def test_a_run_lets_go_of_the_warehouse_before_waiting_for_a_partition(settings, emulator_at):
    """Another run holding a partition this run needs may itself be waiting for the warehouse:
    the run's writer session is closed before it waits, so the two cannot wait for each other."""
    instance = dg.DagsterInstance.ephemeral()
    second = settings.voice.tech_prefixes[1]
    lock = settings.state_dir / "partitions" / f"voice-{second}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    other_run = open(lock, "a+")  # another open file description: as another process holds it
    fcntl.flock(other_run.fileno(), fcntl.LOCK_EX)
    held_while_waiting: list[bool] = []

    def other_run_finishes() -> None:
        # the run's session holds commits in its WAL until it lets go (checkpoint): watching
        # the WAL does not touch the lock, which would itself make the session let go
        wal = Warehouse(settings).working_path.with_name("warehouse.duckdb.wal")
        wait_for(wal.exists)
        wait_for(lambda: not wal.exists())
        held_while_waiting.append(not wal.exists())
        fcntl.flock(other_run.fileno(), fcntl.LOCK_UN)

    helper = threading.Thread(target=other_run_finishes)
    helper.start()
    try:
        summary = run_pipeline(settings, ["voice"], instance=instance, report=False)
    finally:
        helper.join(timeout=120)
        other_run.close()
    assert summary.ok, [s.error for s in summary.failures]
    assert held_while_waiting == [True]  # the warehouse was free while the run waited
    assert published_snapshots(settings) == len(settings.voice.tech_prefixes)


def wait_for(condition, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
