"""Publishing: writers never touch the file analysts hold open; writers serialise across
processes. Readers and lock holders run in real subprocesses."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.errors import WarehouseLockedError, WarehouseMissingError

T0 = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
REPO_ROOT = Path(__file__).resolve().parents[3]

READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
count = "SELECT count(*) FROM voice_snapshot"
print(con.execute(count).fetchall()[0][0], flush=True)
sys.stdin.readline()
print(con.execute(count).fetchall()[0][0], flush=True)
"""

LOCK_HOLDER = """
import sys
from pipeline.warehouse.db import Warehouse
with Warehouse(sys.argv[1], sys.argv[2]).writer() as con:
    con.execute("CREATE TABLE IF NOT EXISTS held_by_child (x INTEGER)")
    print("locked", flush=True)
    sys.stdin.readline()
print("released", flush=True)
"""


def spawn(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen) -> list[str]:
    out, err = proc.communicate("go\n", timeout=60)
    assert proc.returncode == 0, err
    return out.split()


def snapshot_count(warehouse: Warehouse) -> int:
    with warehouse.reader() as con:
        return con.execute("SELECT count(*) FROM voice_snapshot").fetchall()[0][0]


def test_publish_while_another_process_reads(warehouse, make_deck, load_deck):
    load_deck(warehouse, "current", T0, make_deck(("44", "UK", "0.1", "1/1", None)))
    reader = spawn(READER, warehouse.published_path)
    try:
        assert reader.stdout.readline().strip() == "1"  # it holds the file open, read-only

        later = make_deck(("44", "UK", "0.2", "1/1", None))
        load_deck(warehouse, "current", T0 + timedelta(days=1), later)

        assert snapshot_count(warehouse) == 2  # a new reader sees the new data
    finally:
        lines = finish(reader)
    assert lines == ["1"]  # the old reader kept its snapshot


def test_the_published_file_itself_cannot_be_written_while_read(warehouse, make_deck, load_deck):
    """Why publishing copies: DuckDB refuses a writer while any process reads the file."""
    load_deck(warehouse, "current", T0, make_deck(("44", "UK", "0.1", "1/1", None)))
    reader = spawn(READER, warehouse.published_path)
    try:
        reader.stdout.readline()
        with pytest.raises(duckdb.IOException, match="lock"):
            duckdb.connect(str(warehouse.published_path))
    finally:
        finish(reader)


def test_writers_serialise_across_processes(warehouse):
    holder = spawn(LOCK_HOLDER, warehouse.published_path, warehouse.state_dir)
    try:
        assert holder.stdout.readline().strip() == "locked"
        impatient = Warehouse(warehouse.published_path, warehouse.state_dir, lock_timeout_s=0.2)
        with pytest.raises(WarehouseLockedError, match="busy"), impatient.writer():
            pass

        done = threading.Event()
        errors: list[BaseException] = []

        def patient_writer() -> None:
            try:
                with warehouse.writer() as con:
                    con.execute("CREATE TABLE after_child (x INTEGER)")
            except BaseException as exc:  # surfaced by the assert below
                errors.append(exc)
            done.set()

        waiter = threading.Thread(target=patient_writer)
        waiter.start()
    finally:
        lines = finish(holder)
    waiter.join(timeout=60)
    assert lines == ["released"] and done.is_set() and errors == []
    with warehouse.reader() as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert {"held_by_child", "after_child"} <= tables


def test_a_failed_writer_publishes_nothing_and_releases_the_lock(warehouse):
    with warehouse.writer() as con:
        con.execute("CREATE TABLE kept (x INTEGER)")
    before = warehouse.published_path.read_bytes()

    with pytest.raises(RuntimeError, match="boom"), warehouse.writer() as con:
        con.execute("BEGIN TRANSACTION")
        con.execute("CREATE TABLE lost (x INTEGER)")
        raise RuntimeError("boom")

    assert warehouse.published_path.read_bytes() == before
    with warehouse.writer() as con:  # the lock was released
        assert con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'lost'"
        ).fetchall() == [(0,)]


def test_reader_without_a_warehouse(warehouse):
    with pytest.raises(WarehouseMissingError, match="no warehouse yet at .*ratedeck run"):
        warehouse.reader()


def test_working_copy_is_bootstrapped_from_the_published_file(warehouse, tmp_path):
    with warehouse.writer() as con:
        con.execute("CREATE TABLE from_elsewhere (x INTEGER)")
        con.execute("INSERT INTO from_elsewhere VALUES (42)")
    fresh_state = Warehouse(warehouse.published_path, tmp_path / "other-state")

    with fresh_state.writer() as con:
        assert con.execute("SELECT x FROM from_elsewhere").fetchall() == [(42,)]
        con.execute("INSERT INTO from_elsewhere VALUES (43)")

    with fresh_state.reader() as con:
        assert con.execute("SELECT count(*) FROM from_elsewhere").fetchall() == [(2,)]


def test_working_reader_sees_the_working_copy(warehouse):
    with warehouse.writer() as con:
        con.execute("CREATE TABLE w (x INTEGER)")
    with warehouse.working_reader() as con:
        assert con.execute("SELECT count(*) FROM w").fetchall() == [(0,)]
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("INSERT INTO w VALUES (1)")


def test_nested_writer_on_one_thread_is_an_error_not_a_hang(warehouse):
    from pipeline.warehouse.errors import WarehouseError

    with warehouse.writer(), pytest.raises(WarehouseError, match="nested"):
        with warehouse.working_reader():
            pass


def test_settings_constructor(tmp_path):
    from pipeline.settings import Settings

    settings = Settings().with_overrides(paths={"data_dir": str(tmp_path)})
    warehouse = Warehouse(settings)
    assert warehouse.published_path == tmp_path / "warehouse.duckdb"
    assert warehouse.working_path == tmp_path / "state" / "warehouse.duckdb"
    assert warehouse.lock_path == tmp_path / "state" / "warehouse.lock"


def test_a_reader_in_this_process_does_not_pin_the_old_file(warehouse):
    with warehouse.writer() as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    old = warehouse.reader()
    try:
        with warehouse.writer() as con:
            con.execute("INSERT INTO t VALUES (2)")
        with warehouse.reader() as new:
            assert new.execute("SELECT count(*) FROM t").fetchall() == [(2,)]
        assert old.execute("SELECT count(*) FROM t").fetchall() == [(1,)]
    finally:
        old.close()


def test_the_documented_python_connection_sees_every_publish_in_one_process(
    warehouse, monkeypatch, tmp_path
):
    """A notebook: a connection (ratedeck's or a plain DuckDB one, which DuckDB caches per path)
    is still open when a run publishes; the documented helper then sees the new data."""
    from pipeline.warehouse.db import connect

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RATEDECK_DATA_DIR", str(warehouse.published_path.parent))
    monkeypatch.setenv("RATEDECK_WAREHOUSE", str(warehouse.published_path))
    with warehouse.writer() as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    count = "SELECT count(*) FROM t"
    before = connect()
    plain = duckdb.connect(str(warehouse.published_path), read_only=True)
    try:
        assert before.execute(count).fetchall() == plain.execute(count).fetchall() == [(1,)]
        with warehouse.writer() as con:
            con.execute("INSERT INTO t VALUES (2)")
        with connect() as after:
            assert after.execute(count).fetchall() == [(2,)]
        with warehouse.writer() as con:
            con.execute("INSERT INTO t VALUES (3)")
        with connect() as latest:
            assert latest.execute(count).fetchall() == [(3,)]
        assert before.execute(count).fetchall() == [(1,)]  # an open connection keeps its snapshot
    finally:
        before.close()
        plain.close()
