"""The alerts' outbox (``pipeline.notify.pending_alerts``), in-process with the ``.eml`` outbox
as the transport: an alert is kept before it is sent and forgotten once delivered, an earlier
attempt's file goes out as it was, a file another sender holds is left alone, and a state dir
that cannot keep the alert does not stop it."""

from __future__ import annotations

import fcntl
from email.message import EmailMessage

import pytest

from pipeline.defs.alerts import pending_summary
from pipeline.notify.errors import OutboxError
from pipeline.notify.pending_alerts import deliver_or_keep, pending_alerts_dir, resend_pending
from pipeline.settings import Settings

NAME = "run-failure-1234"


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings().with_overrides(
        paths={"data_dir": str(tmp_path / "data")}, alerts={"recipients": ["de@example.com"]}
    )


def alert(subject: str = "ratedeck run failed") -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = "r@example.com"
    message["To"] = "de@example.com"
    message["Message-ID"] = f"<ratedeck-{NAME}@example.com>"
    message.set_content("The Dagster run failed.\n")
    return message


def names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_delivered_alert_is_no_longer_pending(settings):
    sent = deliver_or_keep(alert(), settings, name=NAME)

    assert sent is not None and sent.transport == "outbox"
    assert (settings.outbox_dir / f"{NAME}.eml").read_bytes() == alert().as_bytes()
    assert names(pending_alerts_dir(settings)) == []


def test_an_alert_not_delivered_stays_pending_as_it_was(settings):
    settings.outbox_dir.parent.mkdir(parents=True)
    settings.outbox_dir.write_text("a file where the outbox folder should be")

    with pytest.raises(OutboxError):
        deliver_or_keep(alert(), settings, name=NAME)

    kept = pending_alerts_dir(settings) / f"{NAME}.eml"
    assert names(kept.parent) == [kept.name] and kept.read_bytes() == alert().as_bytes()


def test_an_earlier_attempts_file_is_sent_as_it_was(settings):
    # a sender killed mid-send left its message; Dagster evaluates the run again
    folder = pending_alerts_dir(settings)
    folder.mkdir(parents=True)
    (folder / f"{NAME}.eml").write_bytes(alert("first attempt").as_bytes())

    deliver_or_keep(alert("second attempt"), settings, name=NAME)

    delivered = (settings.outbox_dir / f"{NAME}.eml").read_bytes()
    assert delivered == alert("first attempt").as_bytes()
    assert names(folder) == []


def test_an_alert_another_sender_holds_is_left_to_it(settings):
    folder = pending_alerts_dir(settings)
    folder.mkdir(parents=True)
    kept = folder / f"{NAME}.eml"
    kept.write_bytes(alert().as_bytes())
    with open(kept, "rb") as other_sender:
        fcntl.flock(other_sender.fileno(), fcntl.LOCK_EX)
        resent = resend_pending(settings)
        again = deliver_or_keep(alert(), settings, name=NAME)

    assert (resent.delivered, resent.failed, resent.busy) == ([], [], [NAME])
    assert again is None
    assert names(settings.outbox_dir) == [] and names(folder) == [kept.name]
    assert resend_pending(settings).delivered == [NAME]  # released: the next tick sends it


def test_a_state_dir_that_cannot_keep_the_alert_does_not_stop_it(settings):
    folder = pending_alerts_dir(settings)
    folder.parent.mkdir(parents=True)
    folder.write_text("a file where the folder should be")  # e.g. the disk that failed the run

    sent = deliver_or_keep(alert(), settings, name=NAME)

    assert sent is not None
    assert (settings.outbox_dir / f"{NAME}.eml").read_bytes() == alert().as_bytes()


@pytest.mark.parametrize(
    ("counts", "summary"),
    [
        ((0, 0, 0), "no pending alert"),
        ((2, 0, 0), "resent 2 pending alerts"),
        ((1, 1, 0), "1 pending alert still not delivered (resent 1)"),
        ((0, 0, 1), "1 pending alert being sent by another sender"),
        ((1, 0, 2), "resent 1 pending alert; 2 pending alerts being sent by another sender"),
    ],
)
def test_the_retry_sensor_says_what_it_did(counts, summary):
    assert pending_summary(*counts) == summary
