"""Publishing costs what changed: the file published before becomes the next working copy by
rewriting only the DuckDB blocks that differ, unless a reader still holds it. Real DuckDB files,
real readers (in this process and in a child process); inode numbers show which file is which."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import duckdb
import pytest

from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.publish import (
    BLOCK_BYTES,
    CHECKSUM_BYTES,
    HEADERS_BYTES,
    has_block_layout,
    same_file,
    sync_blocks,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
ROWS = 300_000  # a few MB: several blocks, most of them untouched by a small change


def blocks(data: bytes) -> list[bytes]:
    return [data[i : i + BLOCK_BYTES] for i in range(HEADERS_BYTES, len(data), BLOCK_BYTES)]


@pytest.fixture
def two_versions(tmp_path) -> tuple[Path, Path]:
    """(old, new): one database before and after a small committed change."""
    new = tmp_path / "new.duckdb"
    con = duckdb.connect(str(new))
    con.execute("CREATE TABLE t AS SELECT range AS i, 'row ' || range AS s FROM range(?)", [ROWS])
    con.close()
    old = tmp_path / "old.duckdb"
    shutil.copyfile(new, old)
    con = duckdb.connect(str(new))
    con.execute("UPDATE t SET s = 'changed' WHERE i BETWEEN 1000 AND 1010")
    con.execute("INSERT INTO t VALUES (-1, 'added')")
    con.close()
    return old, new


def fd_layout(path: Path) -> bool:
    with open(path, "rb") as handle:
        return has_block_layout(handle.fileno())


def test_duckdb_changes_a_block_only_with_its_checksum(two_versions):
    """The layout publishing relies on, checked against the installed DuckDB."""
    old, new = (p.read_bytes() for p in two_versions)
    assert fd_layout(two_versions[0]) and fd_layout(two_versions[1])
    pairs = list(zip(blocks(old), blocks(new), strict=False))
    changed = [(a, b) for a, b in pairs if a != b]
    assert 0 < len(changed) < len(pairs) // 2  # a small change touches few blocks
    assert all(a[:CHECKSUM_BYTES] != b[:CHECKSUM_BYTES] for a, b in changed)


def test_sync_blocks_writes_only_the_changed_blocks(two_versions):
    old, new = two_versions
    with open(old, "rb+") as target:
        written = sync_blocks(new, target.fileno())
    assert old.read_bytes() == new.read_bytes()
    assert HEADERS_BYTES < written < new.stat().st_size // 2


def test_sync_blocks_copies_a_file_of_another_layout_whole(two_versions, tmp_path):
    _, new = two_versions
    other = tmp_path / "other"
    other.write_bytes(b"not a database" * 100_000)
    with open(other, "rb+") as target:
        written = sync_blocks(new, target.fileno())
    assert other.read_bytes() == new.read_bytes() and written == new.stat().st_size


def inode(path: Path) -> int:
    return path.stat().st_ino


def rows(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT count(*) FROM t").fetchall()[0][0]


def write(warehouse: Warehouse, sql: str, params: list | None = None) -> None:
    with warehouse.writer() as con:
        con.execute(sql, params)


def test_the_previous_publish_becomes_the_next_working_copy(warehouse):
    write(warehouse, "CREATE TABLE t AS SELECT range AS i FROM range(?)", [ROWS])
    published_before = inode(warehouse.published_path)

    write(warehouse, "INSERT INTO t VALUES (-1)")

    # published by a hard link; the file published before is the working copy again, with
    # only what changed rewritten, and the same bytes as the published file
    assert inode(warehouse.working_path) == published_before
    assert not same_file(warehouse.working_path, warehouse.published_path)
    assert not warehouse.spare_path.exists()
    assert warehouse.working_path.read_bytes() == warehouse.published_path.read_bytes()
    with warehouse.reader() as con:
        assert rows(con) == ROWS + 1


def test_a_session_writing_the_published_file_does_not_reach_the_history(warehouse):
    """Opening data/warehouse.duckdb read-write is a mistake; what it writes is not kept."""
    write(warehouse, "CREATE TABLE t AS SELECT range AS i FROM range(10)")
    mistaken = duckdb.connect(str(warehouse.published_path))
    mistaken.execute("DELETE FROM t")
    mistaken.close()
    write(warehouse, "INSERT INTO t VALUES (-1)")
    with warehouse.reader() as con:
        assert rows(con) == 11


READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("SELECT count(*) FROM t").fetchall()[0][0], flush=True)
sys.stdin.readline()
print(con.execute("SELECT count(*) FROM t").fetchall()[0][0], flush=True)
"""


def test_a_reader_of_the_previous_file_is_never_written_under(warehouse):
    write(warehouse, "CREATE TABLE t AS SELECT range AS i FROM range(1000)")
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(warehouse.published_path)],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "1000"
        held = inode(warehouse.published_path)
        write(warehouse, "INSERT INTO t VALUES (-1)")  # the held file is now the spare
        write(warehouse, "INSERT INTO t VALUES (-2)")  # so this writer copies instead
        assert held not in {inode(warehouse.working_path), inode(warehouse.published_path)}
    finally:
        out, _ = reader.communicate("go\n", timeout=60)
    assert out.split() == ["1000"]  # its file was never written under it
    with warehouse.reader() as con:
        assert rows(con) == 1002


def test_a_reader_in_this_process_is_never_written_under(warehouse):
    write(warehouse, "CREATE TABLE t AS SELECT range AS i FROM range(1000)")
    old = warehouse.reader()
    held = inode(warehouse.published_path)
    try:
        write(warehouse, "INSERT INTO t VALUES (-1)")
        write(warehouse, "INSERT INTO t VALUES (-2)")
        assert held not in {inode(warehouse.working_path), inode(warehouse.published_path)}
        assert rows(old) == 1000
    finally:
        old.close()


def test_publish_once_shows_the_whole_batch_at_its_end(warehouse):
    write(warehouse, "CREATE TABLE t (i INTEGER)")
    published = inode(warehouse.published_path)
    with warehouse.publish_once():
        write(warehouse, "INSERT INTO t VALUES (1)")
        write(warehouse, "INSERT INTO t VALUES (2)")
        assert inode(warehouse.published_path) == published
        with warehouse.reader() as con:
            assert rows(con) == 0
    with warehouse.reader() as con:
        assert rows(con) == 2
    assert warehouse.publish() is False  # nothing changed since


def test_publish_once_ending_in_an_error_leaves_it_to_the_next_publish(warehouse):
    write(warehouse, "CREATE TABLE t (i INTEGER)")
    with pytest.raises(RuntimeError, match="stopped"), warehouse.publish_once():
        write(warehouse, "INSERT INTO t VALUES (1)")
        raise RuntimeError("stopped")
    with warehouse.reader() as con:
        assert rows(con) == 0
    assert warehouse.publish() is True
    with warehouse.reader() as con:
        assert rows(con) == 1


def test_a_writer_that_changed_nothing_publishes_nothing(warehouse):
    write(warehouse, "CREATE TABLE t (i INTEGER)")
    published = inode(warehouse.published_path)
    write(warehouse, "SELECT count(*) FROM t")
    assert inode(warehouse.published_path) == published


def test_two_state_dirs_publishing_one_file_never_share_a_working_copy(warehouse, tmp_path):
    other = Warehouse(warehouse.published_path, tmp_path / "other-state")
    write(warehouse, "CREATE TABLE t (i INTEGER)")
    for value in range(4):
        write(other if value % 2 else warehouse, "INSERT INTO t VALUES (?)", [value])
        assert not same_file(warehouse.working_path, other.working_path)
    with warehouse.writer() as con:
        assert not same_file(warehouse.working_path, other.working_path)
        assert other.working_path.exists()
        assert rows(con) >= 2


@pytest.fixture
def other_filesystem() -> Path:
    """A folder on another filesystem than tmp_path (tmpfs), where no hard link can reach."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(Path.cwd()).st_dev:
        pytest.skip("no second filesystem (/dev/shm) here")
    folder = shm / f"ratedeck-test-{uuid.uuid4().hex}"
    folder.mkdir()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_published_on_another_filesystem_is_copied(other_filesystem, tmp_path):
    if os.stat(other_filesystem).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("tmp_path is on /dev/shm's filesystem")
    warehouse = Warehouse(other_filesystem / "warehouse.duckdb", tmp_path / "state")
    write(warehouse, "CREATE TABLE t AS SELECT 1 AS i")
    write(warehouse, "INSERT INTO t VALUES (2)")
    assert warehouse.published_path.read_bytes() == warehouse.working_path.read_bytes()
    assert not warehouse.spare_path.exists()
    with warehouse.reader() as con:
        assert rows(con) == 2
