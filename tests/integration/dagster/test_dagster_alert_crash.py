"""A run-failure alert survives the death of its sender: the message is kept under
``<state dir>/pending_alerts/`` before it is sent, so a sender SIGKILLed mid-send (by the test's
SMTP server, aiosmtpd on loopback) leaves it for the next sender. Dagster never stored the dead
tick's cursor, so the next tick of ``alert_on_run_failure`` evaluates the run again and resends
the kept bytes; ``retry_pending_alerts`` resends it too (whichever comes first). At worst the
same message twice, never none. The two sensors never send one alert at the same moment.

The failed run is a freshness check's: the email is also the stale feeds' announcement, which
``pipeline.notify.announced`` records as made before the email leaves."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import dagster as dg
import pytest
from support import alert_crash_driver
from support.alert_crash_driver import (
    ENGINEERS,
    FAILURE_SENSOR,
    SENDER,
    Ticks,
    alert_settings,
    failed_run,
    pending_files,
)
from support.smtp import KillingHandler, RecordingHandler, run_until_killed, running_smtp

from pipeline.defs import build_definitions
from pipeline.notify.announced import announced_path, read_announced

# a child process SIGKILLed mid-send, Dagster runs and sensor ticks
pytestmark = pytest.mark.slow

DRIVER = Path(alert_crash_driver.__file__)
RETRY_SENSOR = "retry_pending_alerts"


class HoldingHandler(RecordingHandler):
    """Keeps each DATA waiting until ``release`` is set (the event loop stays free)."""

    def __init__(self) -> None:
        super().__init__()
        self.in_data = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:
        self.in_data.set()
        while not self.release.is_set():
            await asyncio.sleep(0.01)
        return await super().handle_DATA(server, session, envelope)


class Daemon:
    """One Dagster instance in a folder (the driver process opens it too) with a failed
    freshness run, and the alert sensors ticked against an SMTP server on ``port``."""

    def __init__(self, tmp_path: Path) -> None:
        self.data_dir, self.instance_dir = tmp_path / "data", tmp_path / "dagster"
        self.instance_dir.mkdir()
        self.instance = dg.DagsterInstance.local_temp(str(self.instance_dir))
        self.ticks = Ticks(build_definitions(alert_settings(self.data_dir, 25)), self.instance)
        self.ticks.tick(FAILURE_SENSOR)  # the cursor starts before the failure
        self.run_id = failed_run(self.ticks.defs, self.instance)

    def on_port(self, port: int) -> Ticks:
        """The sensors against the SMTP server on ``port``, from the cursors stored so far."""
        ticks = Ticks(build_definitions(alert_settings(self.data_dir, port)), self.instance)
        ticks.cursors = dict(self.ticks.cursors)
        return ticks

    @property
    def state_dir(self) -> Path:
        return alert_settings(self.data_dir, 25).state_dir

    def tick_killed(self, handler: KillingHandler, port: int) -> None:
        """The failure sensor's tick in a child process, killed by ``handler``; its cursor is
        never stored (the daemon keeps the one it had)."""
        cursor = str(self.ticks.cursors[FAILURE_SENSOR])
        args = [str(self.data_dir), str(port), str(self.instance_dir), cursor]
        run_until_killed(DRIVER, args, handler)


@pytest.fixture
def daemon(tmp_path):
    daemon = Daemon(tmp_path)
    yield daemon
    daemon.instance.dispose()


def killed_mid_send(daemon: Daemon, *, accept: bool) -> KillingHandler:
    killer = KillingHandler(accept=accept)
    with running_smtp(killer) as controller:
        daemon.tick_killed(killer, controller.port)
    # the alert is still there, for whichever sensor ticks next
    assert pending_files(daemon.state_dir) == [f"run-failure-{daemon.run_id}.eml"]
    return killer


def test_sender_killed_before_delivery_the_retry_sensor_delivers_the_alert_once(daemon):
    killer = killed_mid_send(daemon, accept=False)
    assert killer.messages == []
    kept = (daemon.state_dir / "pending_alerts" / f"run-failure-{daemon.run_id}.eml").read_bytes()

    inbox = RecordingHandler()
    with running_smtp(inbox) as controller:
        ticks = daemon.on_port(controller.port)
        resent = ticks.tick(RETRY_SENSOR)
        again = ticks.tick(RETRY_SENSOR)
        next_hour = ticks.defs.resolve_job_def("freshness_checks").execute_in_process(
            instance=daemon.instance, raise_on_error=False
        )

    [(mail_from, rcpt_to, raw)] = inbox.messages
    assert (mail_from, rcpt_to) == (SENDER, ENGINEERS)
    assert raw.replace(b"\r\n", b"\n") == kept.replace(b"\r\n", b"\n")
    [email] = inbox.emails
    assert email["Message-ID"].startswith(f"<ratedeck-run-failure-{daemon.run_id}@")
    assert "stale: " in email["Subject"] and "never loaded" in email.get_content()
    assert (resent.skip_message, again.skip_message) == (
        "resent 1 pending alert",
        "no pending alert",
    )
    assert pending_files(daemon.state_dir) == []
    # the stale feeds were announced by this very email: the next hour's check does not repeat it
    assert "balance" in read_announced(announced_path(daemon.state_dir))
    assert next_hour.success


def test_sender_killed_after_delivery_the_next_tick_resends_the_same_bytes(daemon):
    killer = killed_mid_send(daemon, accept=True)
    [(_, _, delivered)] = killer.messages

    inbox = RecordingHandler()
    with running_smtp(inbox) as controller:
        ticks = daemon.on_port(controller.port)  # the cursor from before the killed tick
        [reaction] = ticks.tick(FAILURE_SENSOR).dagster_run_reactions or []
        retried = ticks.tick(RETRY_SENSOR)

    assert reaction.dagster_run.run_id == daemon.run_id and reaction.error is None
    [(_, _, resent)] = inbox.messages  # the one duplicate a crash can cost: the same message
    assert resent == delivered
    assert retried.skip_message == "no pending alert"
    assert pending_files(daemon.state_dir) == []


def test_the_retry_sensor_leaves_alone_an_alert_being_sent(daemon):
    holder = HoldingHandler()
    with running_smtp(holder) as controller:
        ticks = daemon.on_port(controller.port)
        sending = threading.Thread(target=ticks.tick, args=(FAILURE_SENSOR,))
        sending.start()
        try:
            assert holder.in_data.wait(60)  # the failure sensor is in the middle of its send
            assert pending_files(daemon.state_dir) == [f"run-failure-{daemon.run_id}.eml"]
            meanwhile = ticks.tick(RETRY_SENSOR)
        finally:
            holder.release.set()
            sending.join(60)
        after = ticks.tick(RETRY_SENSOR)

    assert meanwhile.skip_message == "1 pending alert being sent by another sender"
    [email] = holder.emails
    assert email["Message-ID"].startswith(f"<ratedeck-run-failure-{daemon.run_id}@")
    assert after.skip_message == "no pending alert"
    assert pending_files(daemon.state_dir) == []
