"""``OwnedTemporary`` and ``remove_stale_temporaries`` in one process: a temporary nobody
holds is removed (one log line), one held is not, even by the process sweeping; other files
are never touched. (Killed processes: tests/integration/lookup/test_stale_temporaries.py.)"""

from __future__ import annotations

import logging
import os

from pipeline.durable import (
    OwnedTemporary,
    _lock_new_file,
    owned_temporary,
    remove_stale_temporaries,
)


def test_a_temporary_nobody_holds_is_removed_and_logged(tmp_path, caplog):
    target = tmp_path / "out.csv"
    abandoned = OwnedTemporary(target)
    abandoned.path.write_text("half written")
    abandoned.close()  # what the kernel does when its process is killed
    assert abandoned.path.name.startswith(f".out.csv.{os.getpid()}-")

    with caplog.at_level(logging.WARNING, logger="pipeline.durable"):
        removed = remove_stale_temporaries(target)

    assert removed == [abandoned.path]
    assert not abandoned.path.exists()
    assert [r.getMessage() for r in caplog.records] == [
        f"removed {abandoned.path}: a stale temporary file of process {os.getpid()}, which is gone"
    ]


def test_a_held_temporary_is_left_even_by_its_own_process(tmp_path):
    target = tmp_path / "out.csv"
    with OwnedTemporary(target) as held:
        held.path.write_text("being written")
        assert remove_stale_temporaries(target) == []
        with owned_temporary(target) as mine:  # another write of the same file meanwhile
            assert mine != held.path
        assert held.path.read_text() == "being written"
        assert not mine.exists()  # the write did not rename it: removed on leaving


def test_other_files_are_never_touched(tmp_path):
    target = tmp_path / "out.csv"
    others = [
        ".out.csv.tmp",
        f".out.csv.{'a' * 32}.tmp",  # an older ratedeck's: no lock, so no proof
        ".out.csv.12-0123456789abcdeg.tmp",
        ".other.csv.12-0123456789abcdef.tmp",
        "out.csv.12-0123456789abcdef.tmp",
        "out.csv",
    ]
    for name in others:
        (tmp_path / name).write_text(name)
    assert remove_stale_temporaries(target) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(others)


def test_a_temporary_swept_before_its_writer_locked_it_is_not_used(tmp_path):
    """A sweeper may find a new temporary between its creation and its lock, and remove it:
    the writer sees it is gone once it has the lock, and takes another name."""
    path = tmp_path / ".out.csv.1-0123456789abcdef.tmp"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    path.unlink()  # the sweeper's doing
    assert _lock_new_file(fd) is False
    kept = os.open(tmp_path / "kept", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    assert _lock_new_file(kept) is True
    os.close(kept)
