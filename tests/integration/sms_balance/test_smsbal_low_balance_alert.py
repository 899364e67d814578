"""The low-balance email: once per crossing, across runs, over real SMTP (aiosmtpd) or outbox."""

from __future__ import annotations

from decimal import Decimal
from email import message_from_bytes, policy

import pytest
from support.sms_balance import at, customer_body
from support.smtp import free_port, header_lines

from pipeline.notify.balance_alert import check_low_balance

# hourly balances and what each run must do (threshold 50)
SCRIPT = [
    ("100", "above_threshold"),
    ("70", "above_threshold"),
    ("55", "above_threshold"),
    ("49", "sent"),  # crossing 1
    ("45", "already_sent"),  # still low: no second email
    ("40", "already_sent"),
    ("0", "already_sent"),  # zero balance, same crossing
    ("200", "above_threshold"),  # top-up: recovered
    ("150", "above_threshold"),
    ("50", "above_threshold"),  # exactly the threshold is not low
    ("49.99999999", "failed"),  # crossing 2, while the SMTP server is unreachable
    ("30", "sent"),  # retried next run: crossing 2's email goes out once
    ("20", "already_sent"),
]


@pytest.mark.slow  # a dozen scheduled runs, each over SMTP
def test_one_email_per_crossing_over_smtp(pipeline, settings, smtp_server):
    inbox, port = smtp_server
    up = settings.with_overrides(smtp={"host": "127.0.0.1", "port": port, "starttls": False})
    down = up.with_overrides(smtp={"port": free_port(), "timeout_s": 5})
    outcomes = []
    for hour, (balance, _) in enumerate(SCRIPT):
        fetched_at = at(3, hour)
        with pipeline.run() as con:  # one scheduled run: fetch, load, check
            pipeline.fetch_customer(customer_body(Decimal(balance), Decimal("10")), fetched_at)
            run_settings = down if balance == "49.99999999" else up
            outcomes.append(check_low_balance(con, run_settings, now=fetched_at))
    assert [o.status for o in outcomes] == [status for _, status in SCRIPT]

    crossing_1 = outcomes[3].crossing_snapshot_id
    crossing_2 = outcomes[10].crossing_snapshot_id
    assert outcomes[6].crossing_snapshot_id == crossing_1 and outcomes[6].balance == 0
    assert outcomes[11].crossing_snapshot_id == crossing_2 != crossing_1
    assert outcomes[10].failed and "connection refused" in outcomes[10].error
    assert outcomes[11].attempts == 2 and outcomes[3].attempts == 1

    assert len(inbox.messages) == 2
    first, second = inbox.emails
    assert first["Subject"] == "Low CommPeak balance: 49.00 USD, account customer@email.com"
    assert first["X-Ratedeck-Alert"] == f"low-balance; crossing={crossing_1}"
    assert second["X-Ratedeck-Alert"] == f"low-balance; crossing={crossing_2}"
    assert "Balance:           30.00 USD (threshold 50.00 USD)" in second.get_content()
    assert "balance then 49.99999999 USD" in second.get_content()
    assert inbox.envelopes[0] == (
        "ratedeck@example.com",
        ["finance@example.com", "ops@example.com"],
    )

    log = pipeline.query(
        "SELECT crossing_snapshot_id, crossed_at, balance, threshold, attempts, "
        "sent_at IS NOT NULL, delivery, last_error FROM balance_alert_log ORDER BY crossed_at"
    )
    assert log == [
        (
            crossing_1,
            at(3, 3),
            Decimal("49"),
            Decimal("50"),
            1,
            True,
            f"smtp smtp://127.0.0.1:{port}",
            None,
        ),
        (
            crossing_2,
            at(3, 10),
            Decimal("49.99999999"),
            Decimal("50"),
            2,
            True,
            f"smtp smtp://127.0.0.1:{port}",
            None,
        ),
    ]


def test_alert_goes_to_the_outbox_without_smtp_and_carries_the_runway(pipeline, settings):
    with pipeline.run() as con:
        assert check_low_balance(con, settings).status == "no_data"
        for day, balance in enumerate(["80", "70", "60", "48"], start=1):
            pipeline.fetch_customer(customer_body(Decimal(balance), Decimal("5")), at(day))
        outcome = check_low_balance(con, settings)
        again = check_low_balance(con, settings)
    assert (outcome.status, again.status) == ("sent", "already_sent")
    eml = settings.outbox_dir / f"low-balance-{outcome.crossing_snapshot_id}.eml"
    assert outcome.delivery == f"outbox {eml}"
    text = eml.read_text(encoding="utf-8")
    assert "Subject: Low CommPeak balance: 48.00 USD, account customer@email.com\n" in text
    # 32 spent over 3 days: 10.66666667/day, 48 / (32/3) = 4.5 days
    assert "Average spend:     10.66666667 USD/day over the last 3 day(s)" in text
    assert "Runway:            about 4.50 day(s) at that rate" in text
    assert list(settings.outbox_dir.iterdir()) == [eml]


def test_first_snapshot_already_low_is_a_crossing_and_a_custom_sender_is_used(pipeline, settings):
    sent = []

    def send(message, name):
        sent.append((name, message["Subject"]))
        return "test transport"

    with pipeline.run() as con:
        pipeline.fetch_customer(customer_body(Decimal("-5"), Decimal("0")), at(1))
        outcome = check_low_balance(con, settings, send)
        pipeline.fetch_customer(customer_body(Decimal("-6"), Decimal("0")), at(2))
        assert check_low_balance(con, settings, send).status == "already_sent"
    assert outcome.status == "sent" and outcome.delivery == "test transport"
    assert sent == [
        (
            f"low-balance-{outcome.crossing_snapshot_id}",
            "Low CommPeak balance: -5.00 USD, account customer@email.com",
        )
    ]


def test_a_send_failing_without_a_message_is_reported_by_its_class_name(pipeline, settings):
    def send(message, name):
        raise ConnectionResetError()  # str() is empty: the class name must stand in for it

    with pipeline.run() as con:
        pipeline.fetch_customer(customer_body(Decimal("10"), Decimal("0")), at(1))
        outcome = check_low_balance(con, settings, send)
    assert (outcome.status, outcome.error) == ("failed", "ConnectionResetError")
    assert pipeline.query("SELECT last_error FROM balance_alert_log") == [("ConnectionResetError",)]


@pytest.mark.parametrize(
    ("email", "subject"),
    [  # 74 characters in full: folded right after the colon, read back with a leading space
        ("c@example.com", "Low CommPeak balance: -12.50 USD, account c@example.com"),
        ("ab@e.io", "Low CommPeak balance: -12.50 USD is below 50.00 USD, account ab@e.io"),
        ("a" * 60 + "@example.com", "Low CommPeak balance: -12.50 USD is below 50.00 USD"),
        # 57 characters, but 'zoë@example.com' is an encoded word of 35: two lines in full
        ("zoë@example.com", "Low CommPeak balance: -12.50 USD is below 50.00 USD"),
    ],
)
def test_the_alert_subject_reads_back_as_written(pipeline, settings, email, subject):
    body = customer_body(Decimal("-12.50"), Decimal("0")).replace(
        b"customer@email.com", email.encode()
    )
    with pipeline.run() as con:
        pipeline.fetch_customer(body, at(1))
        outcome = check_low_balance(con, settings)
    eml = settings.outbox_dir / f"low-balance-{outcome.crossing_snapshot_id}.eml"
    raw = eml.read_bytes()
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == subject
    assert f"Subject: {subject}".encode() in raw.splitlines()  # one line, as written
    assert f"The CommPeak account {email} is below" in parsed.get_content()


def test_the_alert_message_id_is_one_line_over_smtp(pipeline, settings, smtp_server):
    # <ratedeck-low-balance-N@(44 characters)>, 69-72 characters: Python folded it after
    # "Message-ID:" and a parser read it back as " <...>", not the id pending_delivery keeps
    inbox, port = smtp_server
    domain = "alerts." + "b" * 25 + ".example.com"
    settings = settings.with_overrides(
        smtp={"host": "127.0.0.1", "port": port, "starttls": False, "sender": f"r@{domain}"}
    )
    with pipeline.run() as con:
        pipeline.fetch_customer(customer_body(Decimal("10"), Decimal("0")), at(1))
        outcome = check_low_balance(con, settings)
    assert outcome.status == "sent"
    message_id = f"<ratedeck-low-balance-{outcome.crossing_snapshot_id}@{domain}>"
    assert 67 <= len(message_id) <= 77
    [(_, _, raw)] = inbox.messages
    assert header_lines(raw, "Message-ID") == [f"Message-ID: {message_id}".encode()]
    assert inbox.emails[0]["Message-ID"] == message_id
