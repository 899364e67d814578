"""Message-IDs are sent on one line and read back as ratedeck recorded them.

Python's email package (3.11) folds a header right after its colon when its value is one token
of 67-77 characters: the Message-ID of every run-failure alert from the default sender (a run id
is 36 characters, ``<ratedeck-run-failure-…@example.com>`` 71) went out as ``Message-ID:`` then
`` <…>`` on the next line, and a parser read it back with a leading space, another id than the
one ratedeck sent it under. These tests read the bytes a real SMTP server (aiosmtpd) received;
the report's and the low-balance alert's ids are tested with their emails
(tests/integration/reports/test_report_send.py, tests/integration/sms_balance).
"""

from __future__ import annotations

import pytest
from support.smtp import header_lines, recording_smtp

from pipeline.notify.run_alert import FailedRun, send_run_failure_alert
from pipeline.settings import Settings

RUN_ID = "0f6d2c1e-5b7a-4e8c-9a3d-2b1f0e9c8d7a"


@pytest.mark.parametrize(
    "sender",
    [
        "ratedeck@example.com",  # the default: a 71-character id
        "ratedeck@" + "d" * 12 + ".example.com",  # 84 characters: never folded
        "ratedeck@mx.io",  # 64 characters: fits after the colon
    ],
)
def test_the_run_failure_alert_id_is_one_line_over_smtp(tmp_path, sender) -> None:
    with recording_smtp() as inbox:
        settings = Settings().with_overrides(
            paths={"data_dir": str(tmp_path / "data")},
            alerts={"recipients": ["de@example.com"]},
            smtp={"host": "127.0.0.1", "port": inbox.port, "starttls": False, "sender": sender},
        )
        run = FailedRun(run_id=RUN_ID, job="voice_daily", partition="021001", cause="HTTP 502")
        sent = send_run_failure_alert(run, settings)
    assert sent is not None and sent.transport == "smtp"
    message_id = f"<ratedeck-run-failure-{RUN_ID}@{sender.partition('@')[2]}>"
    [(_, _, raw)] = inbox.messages
    assert header_lines(raw, "Message-ID") == [f"Message-ID: {message_id}".encode()]
    [email] = inbox.emails
    assert email["Message-ID"] == message_id
