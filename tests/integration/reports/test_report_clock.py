"""One clock for the whole email: a report built while ``pipeline.clock`` is shifted (as the
demo shifts it to replay past market days) judges what is still announced, and dates its
title, Date header, attachments and ledger rows, by that clock, not by the wall clock."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email import policy
from email.utils import parsedate_to_datetime
from pathlib import Path

from support.reports import Rate

from pipeline import clock
from pipeline.reports import report_and_send

# a market day long past: on the wall clock every change dated after it is already in force
DAY = datetime(2025, 3, 2, 6, 0, tzinfo=UTC)
BASE = [Rate("33", "France", "0.0100"), Rate("44", "United Kingdom", "0.0100")]
CHANGED = [
    Rate("33", "France", "0.0150", effective_at=DAY + timedelta(days=14)),  # 14 days' notice
    Rate("44", "United Kingdom", "0.0120", effective_at=DAY + timedelta(days=3)),  # short
]


def test_a_report_at_a_shifted_clock_announces_dated_changes_and_is_dated_by_it(
    con, decks, settings
):
    decks.snapshot("current", DAY - timedelta(days=1), BASE)
    decks.snapshot("current", DAY, CHANGED)
    reported_at = DAY + timedelta(hours=1)

    with clock.running_from(reported_at):
        delivery = report_and_send(con, settings)  # no now: the clock decides

    assert delivery is not None and delivery.status == "outboxed"
    message = email.message_from_bytes(Path(delivery.target).read_bytes(), policy=policy.default)
    sent = parsedate_to_datetime(message["Date"])
    assert reported_at <= sent < reported_at + timedelta(minutes=5)
    text = message.get_body(("plain",)).get_content()
    assert "RATEDECK PRICE-CHANGE REPORT, 2025-03-02 07:0" in text
    announced = text.split("Announced changes", 1)[1].split("Largest increases", 1)[0]
    assert (
        "2025-03-05 06:00 UTC (3 d notice) current 44 United Kingdom: up 0.0100 -> 0.0120 "
        "+20.00% [SHORT NOTICE]" in announced
    )
    assert (
        "2025-03-16 06:00 UTC (14 d notice) current 33 France: up 0.0100 -> 0.0150 +50.00%"
        in announced
    )
    names = sorted(part.get_filename() for part in message.iter_attachments())
    assert [name[:35] for name in names] == [  # the clock runs on: minutes may pass
        "ratedeck-price-changes-20250302-070",
        "ratedeck-voice-changes-20250302-070",
    ]
    [(created, sent_at)] = con.execute("SELECT created_at, sent_at FROM report_log").fetchall()
    for moment in (created, sent_at):
        assert reported_at <= moment < reported_at + timedelta(minutes=5)
