"""A read-write session on the *published* file that dies leaves a ``.wal`` beside it. ratedeck
never writes that file in place, so the WAL is never ratedeck's: publishing and reading
recover by themselves and say so in one line. The session runs in a real subprocess that is
killed without closing DuckDB (``os._exit``)."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys

import pytest

from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.errors import WarehouseError

DIE_AFTER_WRITING = """
import os, sys, duckdb
con = duckdb.connect(sys.argv[1])          # read-write: the common mistake
con.execute("CREATE TABLE analyst_scratch AS SELECT 42 AS x")
con.execute("DELETE FROM t")
os._exit(0)                                # no close, no checkpoint: the WAL stays
"""


def die_after_writing(path) -> None:
    subprocess.run([sys.executable, "-c", DIE_AFTER_WRITING, str(path)], check=True, timeout=60)


def wal_of(warehouse: Warehouse):
    return warehouse.published_path.with_name(warehouse.published_path.name + ".wal")


def rows(warehouse: Warehouse) -> list[tuple]:
    with warehouse.reader() as con:
        return con.execute("SELECT x FROM t ORDER BY x").fetchall()


def warnings_about_wal(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if ".wal" in r.getMessage()]


def test_a_dead_read_write_session_does_not_break_the_next_publish(warehouse, caplog):
    with warehouse.writer() as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    die_after_writing(warehouse.published_path)
    assert wal_of(warehouse).exists()

    caplog.set_level(logging.WARNING, logger="pipeline.warehouse.db")
    with warehouse.writer() as con:
        con.execute("INSERT INTO t VALUES (2)")

    assert rows(warehouse) == [(1,), (2,)]  # what ratedeck published, not the dead session's
    assert not wal_of(warehouse).exists()
    (line,) = warnings_about_wal(caplog)
    assert str(wal_of(warehouse)) in line and "\n" not in line
    with warehouse.reader() as con:
        tables = {name for (name,) in con.execute("SHOW TABLES").fetchall()}
    assert "analyst_scratch" not in tables


def test_a_wal_left_beside_a_newer_file_is_recovered_on_read(warehouse, caplog, tmp_path):
    """The state a publish without this fix left behind: the WAL of the replaced file beside the
    new one. Every read (and so every run: its checks read the published file) failed with
    "WAL checkpoint iteration does not match" until someone deleted it by hand."""
    with warehouse.writer() as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    die_after_writing(warehouse.published_path)
    kept = shutil.copyfile(wal_of(warehouse), tmp_path / "kept.wal")
    with warehouse.writer() as con:
        con.execute("INSERT INTO t VALUES (2)")
    shutil.copyfile(kept, wal_of(warehouse))  # the old file's WAL, beside the new file

    caplog.set_level(logging.WARNING, logger="pipeline.warehouse.db")
    caplog.clear()
    assert rows(warehouse) == [(1,), (2,)]
    assert not wal_of(warehouse).exists()
    (line,) = warnings_about_wal(caplog)
    assert str(wal_of(warehouse)) in line and "\n" not in line
    assert rows(warehouse) == [(1,), (2,)]  # and it stays recovered, silently
    assert len(warnings_about_wal(caplog)) == 1


def test_a_live_read_write_session_is_not_touched_by_readers(warehouse):
    """Only a WAL DuckDB itself rejects is removed on read; one in use is not ours to judge."""
    with warehouse.writer() as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_READ_WRITE, str(warehouse.published_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(WarehouseError, match="another process holds it open read-write"):
            warehouse.reader()
        assert wal_of(warehouse).exists()
    finally:
        holder.communicate("done\n", timeout=60)


HOLD_READ_WRITE = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE analyst_scratch AS SELECT 42 AS x")
print("holding", flush=True)
sys.stdin.readline()
"""
