"""``event_log_held`` keeps one SQLite event-log database open for a block, so that the
connection Dagster opens and closes per event is never the last one (no checkpoint per event),
and lets go after; other storage is left alone. Real SQLite files in a real Dagster home."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import dagster as dg

from pipeline.dagster_storage import INDEX_SHARD, event_log_held

RUN_ID = "0f0e0d0c-0b0a-4908-8706-050403020100"


def write_and_close(path: Path) -> None:
    """What Dagster does per event: connect, insert, commit, close."""
    with closing(sqlite3.connect(path)) as con:
        con.execute(
            "INSERT INTO event_logs (run_id, event, dagster_event_type) VALUES (?, ?, ?)",
            (RUN_ID, "{}", "ENGINE_EVENT"),
        )
        con.commit()


def test_a_run_shard_is_created_in_wal_mode_and_held_for_the_block(tmp_path):
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        shard = Path(instance.event_log_storage.path_for_shard(RUN_ID))
        with event_log_held(instance, RUN_ID):
            write_and_close(shard)
            assert Path(f"{shard}-wal").exists()  # not checkpointed away: still held
        assert not Path(f"{shard}-wal").exists()  # the last connection closed: checkpointed
        with closing(sqlite3.connect(shard)) as con:
            assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert con.execute("SELECT count(*) FROM event_logs").fetchone()[0] == 1


def test_the_index_shard_is_held_too(tmp_path):
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        index = Path(instance.event_log_storage.path_for_shard(INDEX_SHARD))
        with event_log_held(instance, INDEX_SHARD):
            write_and_close(index)
            assert Path(f"{index}-wal").exists()


def test_other_storage_and_no_instance_are_left_alone():
    with event_log_held(None, RUN_ID), event_log_held(dg.DagsterInstance.ephemeral(), RUN_ID):
        pass
