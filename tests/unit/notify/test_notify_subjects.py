"""Subjects read back as written: each email is one unfolded Subject line that the email package
(``policy.default``) parses back to the text ratedeck meant. Python folds a 70-77 character
subject right after "Subject:" (read back with a leading space), and drops or doubles a space
where it folds between the encoded words of non-ASCII text. The run-failure alert is taken from
the outbox, exactly as it is sent; the report's and the low-balance alert's subjects are tested
with their emails (tests/unit/reports, tests/integration/sms_balance)."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from pipeline.notify.run_alert import FailedRun, send_run_failure_alert
from pipeline.notify.subject import SUBJECT_MAX, fits, fitting_subject, shortened_subject
from pipeline.settings import Settings

RUN_ID = "0f6d2c1e-5b7a-4e8c-9a3d-2b1f0e9c8d7a"
DUCKDB_ZURICH = 'Binder Error: Referenced column "Zürich" not found in FROM clause!'
NO_SPACE = (
    'IO Error: Could not write file "/srv/ratedeck/data/warehouse/ratedeck.duckdb.wal": '
    "No space left on device"
)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings().with_overrides(
        paths={"data_dir": str(tmp_path / "data")}, alerts={"recipients": ["de@example.com"]}
    )


def sent_alert(settings: Settings, partition: str | None, cause: str) -> tuple[bytes, EmailMessage]:
    run = FailedRun(run_id=RUN_ID, job="voice_daily", partition=partition, cause=cause)
    sent = send_run_failure_alert(run, settings)
    assert sent is not None and sent.transport == "outbox"
    raw = (settings.outbox_dir / f"run-failure-{RUN_ID}.eml").read_bytes()
    return raw, message_from_bytes(raw, policy=policy.default)


def subject_lines(raw: bytes) -> list[bytes]:
    """The Subject header as sent: its first line and any continuation lines."""
    head = raw.split(b"\n\n", 1)[0].split(b"\n")
    start = next(i for i, line in enumerate(head) if line.startswith(b"Subject:"))
    end = start + 1
    while end < len(head) and head[end][:1] in (b" ", b"\t"):
        end += 1
    return head[start:end]


@pytest.mark.parametrize(
    ("partition", "cause", "subject"),
    [
        pytest.param(  # 75 characters in full: folded after the colon, a leading space
            "021001",
            "HTTP 502 Bad Gateway from CommPeak",
            "ratedeck run failed: voice_daily 021001: HTTP 502 Bad Gateway from...",
            id="70-77-characters",
        ),
        pytest.param(
            "021001",
            NO_SPACE,
            "ratedeck run failed: voice_daily 021001: IO Error: Could not write...",
            id="long-cause",
        ),
        pytest.param(  # non-ASCII: encoded words, folded between them, a space lost
            "021001",
            DUCKDB_ZURICH,
            "ratedeck run failed: voice_daily 021001: Binder Error: Referenced...",
            id="duckdb-error-quoting-zurich",
        ),
        pytest.param(
            "current",
            "Catalog Error: Table Zürich does not exist",
            "ratedeck run failed: voice_daily current: Catalog Error: Table Z...",
            id="non-ascii-at-the-cut",
        ),
        pytest.param(
            None,
            "no table Zürich",
            "ratedeck run failed: voice_daily: no table Zürich",
            id="non-ascii-that-fits-whole",
        ),
    ],
)
def test_the_run_failure_alert_subject_is_one_line_read_back_as_written(
    settings, partition, cause, subject
):
    raw, email = sent_alert(settings, partition, cause)

    assert not email["Subject"].startswith(" ")
    assert email["Subject"] == subject
    assert len(subject_lines(raw)) == 1
    # the whole cause is in the body
    assert f"Cause:  {cause}" in email.get_content().splitlines()


def test_a_subject_is_cut_at_the_longest_beginning_that_fits():
    text = "ratedeck run failed: voice_daily 021001: " + "x" * 40
    assert shortened_subject(text) == text[: SUBJECT_MAX - 3] + "..."
    assert shortened_subject(text[:SUBJECT_MAX]) == text[:SUBJECT_MAX]  # fits whole: not cut
    assert len(shortened_subject("ratedeck: " + "é" * 80)) < SUBJECT_MAX  # encoded: fewer fit


def test_fits_is_one_line_read_back_unchanged():
    assert fits("a" * SUBJECT_MAX) and not fits("a" * (SUBJECT_MAX + 1))
    assert fits("ratedeck: Zürich") and not fits("ratedeck: " + "Zürich " * 8)
    assert not fits("a =?utf-8?q?b?= c")  # would be read back decoded: 'a b c'
    assert not fits("two\nlines")


def test_fitting_subject_takes_the_first_that_fits_else_the_last():
    long_ascii, short = "a" * 74, "ratedeck: short"
    assert fitting_subject(long_ascii, "b" * 69, short) == "b" * 69
    assert fitting_subject("c, account zoë@" + "e" * 50, short) == short
    assert fitting_subject(long_ascii, "d" * 80) == "d" * 80
