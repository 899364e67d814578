"""A run-failure alert survives an SMTP outage: Dagster's run-failure sensor moves its cursor
past a failed run even when its email could not be sent, so the message is kept, bytes and all,
under ``<state dir>/pending_alerts/`` and the sensor ``retry_pending_alerts`` resends it. Real
parts: the sensors' own tick evaluation (cursor included), a real failing run, a real SMTP
server (aiosmtpd on loopback) that is down, then up."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import pytest
from aiosmtpd.controller import Controller
from support.alert_crash_driver import Ticks, failed_run, pending_files
from support.smtp import RecordingHandler, free_port

from pipeline.defs import build_definitions

# Dagster runs and sensor ticks in process: a few seconds each
pytestmark = pytest.mark.slow

ENGINEERS = ["de@example.com"]


@contextmanager
def smtp_on(port: int) -> Iterator[RecordingHandler]:
    """A recording SMTP server on the given loopback port, for the block."""
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def down_port() -> int:
    return free_port()  # nothing listens on it until the test starts a server there


@pytest.fixture
def alert_settings(make_settings, down_port):
    return make_settings(
        smtp={
            "host": "127.0.0.1",
            "port": down_port,
            "sender": "r@example.com",
            "timeout_s": 2,
            "starttls": False,
        },
        alerts={"recipients": ENGINEERS},
    )


def test_alert_not_delivered_is_kept_and_resent_once_smtp_is_back(alert_settings, down_port):
    defs = build_definitions(alert_settings)
    ticks = Ticks(defs, dg.DagsterInstance.ephemeral())
    ticks.tick("alert_on_run_failure")  # the cursor starts before the failure
    run_id = failed_run(defs, ticks.instance)

    failing = ticks.tick("alert_on_run_failure")  # SMTP down

    [reaction] = failing.dagster_run_reactions or []
    assert reaction.dagster_run.run_id == run_id
    assert reaction.error is not None  # the tick shows the failure
    assert "smtp://127.0.0.1" in reaction.error.message
    assert pending_files(alert_settings.state_dir) == [f"run-failure-{run_id}.eml"]
    kept = (alert_settings.state_dir / "pending_alerts" / f"run-failure-{run_id}.eml").read_bytes()
    assert ticks.tick("retry_pending_alerts").skip_message.startswith("1 pending alert")

    with smtp_on(down_port) as smtp:
        for _ in range(2):
            ticks.tick("alert_on_run_failure")  # the cursor is past the run: sends nothing
        assert smtp.messages == []
        resent = ticks.tick("retry_pending_alerts")
        again = ticks.tick("retry_pending_alerts")

    [(mail_from, rcpt_to, raw)] = smtp.messages
    assert (mail_from, rcpt_to) == ("r@example.com", ENGINEERS)
    assert raw.replace(b"\r\n", b"\n") == kept.replace(b"\r\n", b"\n")  # the very message kept
    [email] = smtp.emails
    assert email["Message-ID"].startswith(f"<ratedeck-run-failure-{run_id}@")
    assert pending_files(alert_settings.state_dir) == []
    assert resent.skip_message == "resent 1 pending alert"
    assert again.skip_message == "no pending alert"


def test_alert_delivered_at_once_leaves_nothing_pending(alert_settings, down_port):
    defs = build_definitions(alert_settings)
    ticks = Ticks(defs, dg.DagsterInstance.ephemeral())
    ticks.tick("alert_on_run_failure")
    with smtp_on(down_port) as smtp:
        run_id = failed_run(defs, ticks.instance)
        delivered = ticks.tick("alert_on_run_failure")
        retried = ticks.tick("retry_pending_alerts")

    [reaction] = delivered.dagster_run_reactions or []
    assert reaction.error is None
    [email] = smtp.emails
    assert email["Message-ID"].startswith(f"<ratedeck-run-failure-{run_id}@")
    assert pending_files(alert_settings.state_dir) == []
    assert retried.skip_message == "no pending alert"
