"""Exactly one Message-ID per change, across a real crash: the sending process is SIGKILLed by
the test's SMTP server (aiosmtpd) right after it accepted the message and before the process
could commit report_log / balance_alert_log. The next run must resend that same message (same
Message-ID, same bytes) before anything new, and never put its changes in a second message."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from support import delivery_crash_driver
from support.delivery_crash_driver import driver_settings
from support.reports import SAMPLE_BASE, SAMPLE_CHANGED, T1, DeckHistory, Rate, populate_sample
from support.smtp import KillingHandler, RecordingHandler, run_until_killed, running_smtp

from pipeline.landing import LandingZone
from pipeline.reports.send import report_and_send
from pipeline.stages.balance import alert_on_low_balance, load_customer
from pipeline.warehouse.db import Warehouse

pytestmark = pytest.mark.slow  # child processes SIGKILLed mid-delivery

DRIVER = Path(delivery_crash_driver.__file__)


def run_killed(mode: str, data_dir: Path, handler: KillingHandler, port: int) -> None:
    run_until_killed(DRIVER, [mode, str(data_dir), str(port)], handler)
    assert len(handler.messages) == 1  # the server did accept it


def change_ids(message) -> set[str]:
    """The change ids a received report covers (the change_id column of its CSV attachments)."""
    ids = set()
    for part in message.iter_attachments():
        if part.get_filename().endswith(".csv"):
            content = part.get_content()
            text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
            rows = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
            ids |= {row["change_id"] for row in rows}
    return ids


def test_crash_after_the_server_accepted_a_report_resends_that_message_only(tmp_path):
    data_dir = tmp_path / "data"
    settings_for = lambda port: driver_settings(str(data_dir), port)  # noqa: E731
    with Warehouse(settings_for(25)).writer() as con:
        populate_sample(DeckHistory(con))

    killer = KillingHandler()
    with running_smtp(killer) as controller:
        run_killed("report", data_dir, killer, controller.port)
    [(_, _, first_raw)] = killer.messages

    # the next day brings more changes; the next run happens
    with Warehouse(settings_for(25)).writer() as con:
        day_three = [SAMPLE_CHANGED.get(r.prefix, r) for r in SAMPLE_BASE if r.prefix != "3538994"]
        day_three = [
            Rate(r.prefix, r.destination, "0.0999") if r.prefix in ("44", "34") else r
            for r in day_three
        ]
        DeckHistory(con).snapshot("current", T1 + timedelta(days=1), day_three)
    inbox = RecordingHandler()
    with running_smtp(inbox) as controller:
        settings = settings_for(controller.port)
        report_and_send(Warehouse(settings), settings, now=T1 + timedelta(days=1, hours=1))
        assert report_and_send(Warehouse(settings), settings) is None  # nothing left

    received = [first_raw] + [raw for _, _, raw in inbox.messages]
    messages = [message_from_bytes(raw, policy=policy.default) for raw in received]
    ids_by_message: dict[str, set[str]] = defaultdict(set)
    for message in messages:
        ids_by_message[message["Message-ID"]] |= change_ids(message)
    times_received = defaultdict(int)
    for message in messages:
        times_received[message["Message-ID"]] += 1
    first_id = messages[0]["Message-ID"]

    seen: dict[str, str] = {}
    for message_id, ids in ids_by_message.items():
        for change_id in ids:
            assert seen.setdefault(change_id, message_id) == message_id, change_id
    assert max(times_received.values()) <= 2
    assert len(messages) == 3  # the crashed report, its resend, the day's new report
    assert messages[1]["Message-ID"] == first_id
    assert received[1].replace(b"\r\n", b"\n") == first_raw.replace(b"\r\n", b"\n")
    assert len(ids_by_message[first_id]) == 18
    with Warehouse(settings).reader() as con:
        rows = con.execute("SELECT change_id FROM voice_rate_change").fetchall()
        logged = con.execute(
            "SELECT message_id, status, change_count FROM report_log ORDER BY report_id"
        ).fetchall()
        left = con.execute("SELECT count(*) FROM pending_delivery").fetchall()
    every_change = {change_id for (change_id,) in rows}
    new_ids = change_ids(messages[2])
    assert new_ids and new_ids == every_change - ids_by_message[first_id]  # only the new ones
    assert logged == [
        (first_id, "sent", 18),
        (messages[2]["Message-ID"], "sent", len(new_ids)),
    ]
    assert left == [(0,)]


def load_balance(settings, balance: str, fetched_at) -> None:
    body = (
        '{"customer": {"email": "customer@email.com", "balance": '
        f'{balance}, "sms_balance": 3, "temporary_credit": 0}}}}'
    ).encode()
    landed = LandingZone(settings.data_dir).store_bytes(
        "customer", "customer", body, ext="json", fetched_at=fetched_at
    )
    load_customer(settings, landed)


@pytest.mark.parametrize("recovered", [False, True], ids=["still-low", "recovered-before-retry"])
def test_crash_after_the_server_accepted_a_low_balance_alert_resends_that_alert(
    tmp_path, recovered
):
    data_dir = tmp_path / "data"
    settings = driver_settings(str(data_dir), 25)
    load_balance(settings, "49", T1)

    killer = KillingHandler()
    with running_smtp(killer) as controller:
        run_killed("alert", data_dir, killer, controller.port)
    if recovered:  # topped up before the next run: the pending alert still goes out as it was
        load_balance(settings, "200", T1 + timedelta(hours=1))
    inbox = RecordingHandler()
    with running_smtp(inbox) as controller:
        settings = driver_settings(str(data_dir), controller.port)
        outcome = alert_on_low_balance(settings)
        again = alert_on_low_balance(settings)

    expected = ("above_threshold",) * 2 if recovered else ("sent", "already_sent")
    assert (outcome.status, again.status) == expected
    [first] = killer.emails
    [resent] = inbox.emails
    assert resent["Message-ID"] == first["Message-ID"]
    assert inbox.messages[0][2] == killer.messages[0][2]
    with Warehouse(settings).reader() as con:
        logged = con.execute(
            "SELECT balance, attempts, sent_at IS NOT NULL FROM balance_alert_log"
        ).fetchall()
        left = con.execute("SELECT count(*) FROM pending_delivery").fetchall()
    assert logged == [(Decimal("49"), 2, True)] and left == [(0,)]
