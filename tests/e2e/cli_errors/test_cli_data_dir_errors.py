"""A read-only or full data dir, for real: the CLI runs in its own mount namespace
(``unshare --user --map-root-user --mount``) over a read-only bind mount or a small tmpfs, so
the kernel itself answers EROFS / ENOSPC. One line naming the folder and the cause; the steps
that did their work are reported as done (issue 13 item 9)."""

from __future__ import annotations

import re

import duckdb
import pytest
from support.cli_errors import API_KEY, namespaces_work, under_mount

pytestmark = [
    pytest.mark.skipif(
        not namespaces_work(), reason="needs unprivileged user and mount namespaces (unshare)"
    ),
    pytest.mark.slow,  # `ratedeck run` in a subprocess, twice per test
]


def env_for(emulator, data_dir, **extra) -> dict[str, str]:
    return {
        "RATEDECK_DATA_DIR": str(data_dir),
        "COMMPEAK_BASE_URL": emulator.url,
        "COMMPEAK_API_KEY": API_KEY,
        **extra,
    }


def statuses(stdout: str) -> list[tuple[str, str]]:
    """(area, status) of each row of the summary table."""
    found = (re.match(r"^(\w+)\s.*?\b(ok|FAILED)\b", line) for line in stdout.splitlines())
    return [m.groups() for m in found if m]


def one_error_line(result) -> str:
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_read_only_data_dir_is_one_line_naming_it(ratedeck, emulator, tmp_path):
    data_dir = tmp_path / "data"
    first = ratedeck("run", "--select", "balance", cwd=tmp_path, **env_for(emulator, data_dir))
    assert first.returncode == 0, first.stderr
    read_only = f"mount --bind {data_dir} {data_dir} && mount -o remount,ro,bind {data_dir}"

    result = ratedeck(
        "run", cwd=tmp_path, prefix=under_mount(read_only), **env_for(emulator, data_dir)
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert one_error_line(result) == (
        f"ratedeck: error: {data_dir}: cannot write there: Read-only file system"
    )
    assert [r.path for r in emulator.request_log] == ["/customer"]  # only the first run's


def test_a_full_data_dir_is_refused_before_the_first_step(ratedeck, emulator, tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    tiny = f"mount -t tmpfs -o size=256k tmpfs {data_dir}"

    result = ratedeck("run", cwd=tmp_path, prefix=under_mount(tiny), **env_for(emulator, data_dir))

    assert result.returncode == 1
    line = one_error_line(result)
    assert line.startswith(f"ratedeck: error: {data_dir}: cannot write there: No space left on")
    assert emulator.request_log == []


def test_a_disk_filling_up_mid_run_keeps_the_steps_done(ratedeck, emulator, tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    small = f"mount -t tmpfs -o size=6m tmpfs {data_dir}"

    result = ratedeck("run", cwd=tmp_path, prefix=under_mount(small), **env_for(emulator, data_dir))

    assert result.returncode == 1
    line = one_error_line(result)
    assert "No space left on device" in line and str(data_dir) in line, line
    steps = statuses(result.stdout)
    assert ("voice", "ok") == steps[0]  # the first deck was loaded before the disk filled up
    assert steps[-1][1] == "FAILED"  # and the run stopped at the step that found it full


def test_a_failed_publish_reports_the_steps_as_done(ratedeck, emulator, tmp_path):
    data_dir, published = tmp_path / "data", tmp_path / "published"
    published.mkdir()
    # room for the start-up check, not for a copy of the warehouse
    tiny = f"mount -t tmpfs -o size=2m tmpfs {published}"

    result = ratedeck(
        "run",
        cwd=tmp_path,
        prefix=under_mount(tiny),
        **env_for(emulator, data_dir, RATEDECK_WAREHOUSE=str(published / "warehouse.duckdb")),
    )

    assert result.returncode == 1
    assert one_error_line(result) == (
        f"ratedeck: error: warehouse not published: {published}: No space left on device (the "
        "steps' data is kept in the working copy and published by the next run)"
    )
    assert statuses(result.stdout) == [
        ("voice", "ok"),
        ("voice", "ok"),
        ("voice", "ok"),
        ("sms", "ok"),
        ("sms", "ok"),
        ("balance", "ok"),
        ("report", "ok"),
    ]
    assert result.stdout.count(f"not published: {published}: No space left on device") == 7
    working = duckdb.connect(str(data_dir / "state" / "warehouse.duckdb"), read_only=True)
    try:
        counts = working.execute("SELECT count(DISTINCT tech_prefix) FROM voice_rate").fetchall()
        snapshots = working.execute("SELECT count(*) FROM balance_snapshot").fetchall()
    finally:
        working.close()
    assert counts == [(3,)] and snapshots == [(1,)]  # committed, only not published
