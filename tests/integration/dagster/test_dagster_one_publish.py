"""``run_pipeline`` (``ratedeck run``) publishes once, at the end: while the run loads deck after
deck, analysts keep seeing the previous run whole; afterwards they see all of this one."""

from __future__ import annotations

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
