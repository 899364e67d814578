"""The outbox removes the temp files a process killed mid-write left behind, and only those."""

from __future__ import annotations

import os
import time
from email.message import EmailMessage

from pipeline.notify.outbox import write_eml

DAY = 24 * 3600  # far beyond the threshold
HEX = "0123456789abcdef" * 2


def _message() -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = "hello"
    message.set_content("body\n")
    return message


def _aged(path, seconds: float):
    path.write_bytes(b"half a message")
    moment = time.time() - seconds
    os.utime(path, (moment, moment))
    return path


def test_a_write_removes_stale_temp_files_and_nothing_else(tmp_path):
    old_hour = DAY
    stale_report = _aged(tmp_path / f".ratedeck-report-abc.eml.{HEX}.tmp", old_hour)
    stale_alert = _aged(tmp_path / f".low-balance-7.eml.{HEX}.tmp", old_hour)
    in_progress = _aged(tmp_path / f".ratedeck-report-def.eml.{HEX}.tmp", 5)  # another writer
    users = [
        _aged(tmp_path / ".notes.tmp", old_hour),
        _aged(tmp_path / f".ratedeck-report-abc.eml.{HEX}.tmp.keep", old_hour),
        _aged(tmp_path / f".ratedeck-report-abc.eml.NOTHEX{HEX[6:]}.tmp", old_hour),
        _aged(tmp_path / "ratedeck-report-old.eml", old_hour),
    ]

    written = write_eml(_message(), tmp_path, "ratedeck-report-new")

    assert not stale_report.exists() and not stale_alert.exists()
    assert in_progress.exists()
    assert all(path.exists() for path in users)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [written.name, in_progress.name] + [p.name for p in users]
    )


def test_sweep_reports_what_it_removed(tmp_path):
    from pipeline.notify.outbox import STALE_TEMP_AGE_S, remove_stale_temp_files

    stale = _aged(tmp_path / f".x.eml.{HEX}.tmp", STALE_TEMP_AGE_S + 1)
    assert remove_stale_temp_files(tmp_path) == [stale]
    assert remove_stale_temp_files(tmp_path) == []
