"""The writers of one ``publish_once()`` block share one writer session (one open, one
migration check, one checkpoint), each still its own transaction; a process waiting for the
warehouse gets it after the session's current writer, not after the whole block. Real DuckDB
files; the other process is a real child process."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipeline.durable import lock_free
from pipeline.warehouse.db import Warehouse

REPO_ROOT = Path(__file__).resolve().parents[3]

OTHER_WRITER = """
import sys
from pipeline.warehouse.db import Warehouse
with Warehouse(sys.argv[1], sys.argv[2]).writer() as con:
    con.execute("INSERT INTO t VALUES (?)", [int(sys.argv[3])])
"""


def values(con: duckdb.DuckDBPyConnection) -> list[int]:
    return [row[0] for row in con.execute("SELECT i FROM t ORDER BY i").fetchall()]


def write(warehouse: Warehouse, sql: str, params: list | None = None) -> None:
    with warehouse.writer() as con:
        con.execute(sql, params)


def other_process_writes(warehouse: Warehouse, value: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            OTHER_WRITER,
            str(warehouse.published_path),
            str(warehouse.state_dir),
            str(value),
        ],
        cwd=REPO_ROOT,
    )


def wait_for(condition, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def table(warehouse: Warehouse) -> Warehouse:
    write(warehouse, "CREATE TABLE t (i INTEGER)")
    return warehouse


def test_the_writers_of_a_block_share_one_session_held_between_them(table):
    with table.publish_once():
        write(table, "INSERT INTO t VALUES (1)")
        assert not lock_free(table.lock_path)  # kept open between writers: no reopen, no checkpoint
        assert table.working_path.with_name("warehouse.duckdb.wal").exists()
        write(table, "INSERT INTO t VALUES (2)")
    assert lock_free(table.lock_path)
    assert not table.working_path.with_name("warehouse.duckdb.wal").exists()  # checkpointed
    with table.reader() as con:
        assert values(con) == [1, 2]


def test_a_failed_writer_in_a_session_rolls_back_only_its_own_transaction(table):
    with table.publish_once():
        write(table, "INSERT INTO t VALUES (1)")
        with pytest.raises(duckdb.Error), table.writer() as con:
            con.execute("BEGIN TRANSACTION")
            con.execute("INSERT INTO t VALUES (2)")
            con.execute("SELECT error('load refused')")
        with table.writer() as con:
            assert values(con) == [1]  # the failed writer's row is gone, the session lives
            con.execute("INSERT INTO t VALUES (3)")
    with table.reader() as con:
        assert values(con) == [1, 3]


def test_a_writer_that_raises_before_committing_leaves_nothing(table):
    with table.publish_once():
        with pytest.raises(RuntimeError, match="stopped"), table.writer() as con:
            con.execute("BEGIN TRANSACTION")
            con.execute("INSERT INTO t VALUES (7)")
            raise RuntimeError("stopped")
        write(table, "INSERT INTO t VALUES (8)")
    with table.reader() as con:
        assert values(con) == [8]


def test_a_working_reader_in_a_session_sees_what_the_session_committed(table):
    with table.publish_once():
        write(table, "INSERT INTO t VALUES (1)")
        with table.working_reader() as con:
            assert values(con) == [1]
        with table.reader() as con:
            assert values(con) == []  # not published before the block ends


def test_a_waiting_process_gets_the_warehouse_after_the_current_writer(table):
    with table.publish_once():
        write(table, "INSERT INTO t VALUES (1)")
        other = other_process_writes(table, 100)
        try:
            wait_for(table.wanted_path.exists)  # it waits, and says so
            write(table, "INSERT INTO t VALUES (2)")  # the session lets go after this writer
            assert other.wait(timeout=60) == 0  # long before the block ends
        finally:
            other.kill()
        write(table, "INSERT INTO t VALUES (3)")  # opens the session again
        with table.working_reader() as con:
            assert values(con) == [1, 2, 3, 100]
    assert not table.wanted_path.exists()
    with table.reader() as con:
        assert values(con) == [1, 2, 3, 100]


def test_release_session_lets_another_process_write_mid_block(table):
    with table.publish_once():
        write(table, "INSERT INTO t VALUES (1)")
        table.release_session()
        assert lock_free(table.lock_path)
        other = other_process_writes(table, 100)
        assert other.wait(timeout=60) == 0
        write(table, "INSERT INTO t VALUES (2)")
    with table.reader() as con:
        assert values(con) == [1, 2, 100]


def test_a_waiting_process_gets_the_warehouse_while_the_session_is_idle(table):
    """Between writers (a run fetching its next deck), nobody waits for the session."""
    with table.publish_once():
        write(table, "INSERT INTO t VALUES (1)")
        other = other_process_writes(table, 100)
        try:
            assert other.wait(timeout=60) == 0  # no writer of ours ran in the meantime
        finally:
            other.kill()
        write(table, "INSERT INTO t VALUES (2)")
    with table.reader() as con:
        assert values(con) == [1, 2, 100]
