"""The finance email end to end: a real warehouse, a real SMTP server on loopback."""

import email
import io
from datetime import timedelta
from decimal import Decimal
from email import policy

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from pydantic import SecretStr
from support.reports import (
    SAMPLE_TRAFFIC,
    T0,
    T1,
    Rate,
    populate_sample,
)
from support.smtp import RecordingHandler, header_lines, start_smtp

from pipeline.notify.errors import (
    DeliveryError,
    NotifyConfigError,
    SmtpAuthError,
    SmtpConnectError,
    SmtpRejectedError,
)
from pipeline.reports import build_report, report_and_send, send_report
from pipeline.settings import SmtpSettings, load_settings

NOW = T1 + timedelta(hours=1)


@pytest.fixture
def sample(con, decks, tmp_path):
    populate_sample(decks)
    profile = tmp_path / "traffic.csv"
    profile.write_text(SAMPLE_TRAFFIC)
    return profile


def smtp_settings(settings, controller, **smtp):
    return settings.with_overrides(
        smtp={"host": "127.0.0.1", "port": controller.port, "starttls": False, **smtp}
    )


def unreported(con) -> int:
    return con.execute(
        "SELECT count(*) FROM voice_rate_change c WHERE NOT EXISTS ("
        " SELECT 1 FROM report_change r WHERE r.kind = 'voice' AND r.change_id = c.change_id)"
    ).fetchall()[0][0]


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)


def attachments(message) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in message.iter_attachments()}


@pytest.mark.slow  # renders every part
def test_sends_one_email_with_every_part_and_numbers_from_the_warehouse(
    con, settings, sample, smtp_server
):
    controller, handler = smtp_server
    settings = smtp_settings(settings, controller).with_overrides(
        report={"traffic_profile": sample}
    )
    delivery = report_and_send(con, settings, now=NOW)

    assert delivery.status == "sent" and delivery.change_count == 18
    assert delivery.target == f"smtp://127.0.0.1:{controller.port}"
    [(mail_from, rcpt_tos, raw)] = handler.messages
    assert mail_from == "ratedeck@example.com"
    assert rcpt_tos == ["finance@example.com", "cfo@example.com"]
    message = parse(raw)
    # one unfolded line: the money first, the up/down counts in the body
    assert message["Subject"] == "ratedeck: 18 price changes on current, 021001, +46.38 USD/month"
    assert message["Message-ID"] == delivery.message_id
    text = message.get_body(("plain",)).get_content()
    # the default 150 s reference call makes 1/1 -> 60/60 the increase it is
    assert "18 price changes: 12 up, 3 down, 1 new, 1 removed, " in text
    html = message.get_body(("html",)).get_content()
    # the profile names no tech prefix: it runs on current (the default route) only, so
    # 021001's France change (+0.0005 x 5200 min) is not counted a second time
    assert "Estimated monthly impact: +46.38 USD." in text
    assert "3538994 removed: now billed as 35389 (Ireland Mobile) at 0.1617, -23.00%" in text
    [chart] = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert chart.get_content().startswith(b"\x89PNG")
    assert f'src="cid:{chart["Content-ID"].strip("<>")}"' in html
    files = attachments(message)
    assert list(files) == [
        "ratedeck-voice-changes-20261102-0700.csv",
        "ratedeck-price-changes-20261102-0700.xlsx",
    ]

    workbook = openpyxl.load_workbook(
        io.BytesIO(files["ratedeck-price-changes-20261102-0700.xlsx"])
    )
    assert workbook.sheetnames == ["Voice changes"]  # no SMS changes: no SMS sheet
    sheet = workbook["Voice changes"]
    header = [c.value for c in sheet[1]]
    cells = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(2)]
    expected = con.execute(
        "SELECT change_id, old_price, new_price, price_change_pct FROM voice_rate_change"
    ).fetchall()
    assert len(cells) == len(expected) == 18
    by_id = {c["Change id"]: c for c in cells}
    for change_id, old, new, pct in expected:
        cell = by_id[change_id]
        assert _dec(cell["Old price"]) == old
        assert _dec(cell["New price"]) == new
        assert _dec(cell["Price change %"]) == (None if pct is None else pct / 100)
    india = next(c for c in cells if c["Prefix"] == "91" and c["Tech prefix"] == "current")
    assert _dec(india["Monthly impact"]) == Decimal("23000") * Decimal("0.0023")
    assert unreported(con) == 0


def test_second_run_sends_nothing(con, settings, sample, smtp_server):
    controller, handler = smtp_server
    settings = smtp_settings(settings, controller)
    assert report_and_send(con, settings, now=NOW) is not None
    assert report_and_send(con, settings, now=NOW) is None
    assert build_report(con, settings, now=NOW) is None
    assert len(handler.messages) == 1
    assert con.execute("SELECT count(*), min(status) FROM report_log").fetchall() == [(1, "sent")]
    assert con.execute("SELECT count(*) FROM report_change").fetchall() == [(18,)]


def test_only_new_changes_are_reported_next_time(con, settings, decks, smtp_server):
    controller, handler = smtp_server
    settings = smtp_settings(settings, controller)
    decks.snapshot("current", T0, [Rate("44", "UK", "0.0100"), Rate("49", "Germany", "0.0120")])
    assert report_and_send(con, settings, now=NOW) is None  # baseline: no email
    decks.snapshot("current", T1, [Rate("44", "UK", "0.0110"), Rate("49", "Germany", "0.0120")])
    report_and_send(con, settings, now=NOW)
    decks.snapshot(
        "current",
        T1 + timedelta(days=1),
        [Rate("44", "UK", "0.0110"), Rate("49", "Germany", "0.0100")],
    )
    later = report_and_send(con, settings, now=NOW + timedelta(days=1))
    assert later.change_count == 1
    subjects = [parse(raw)["Subject"] for _, _, raw in handler.messages]
    assert subjects == [
        "ratedeck: 1 price change (1 up) on current",
        "ratedeck: 1 price change (1 down) on current",
    ]


def test_server_down_leaves_changes_unreported_until_it_is_back(con, settings, sample):
    handler = RecordingHandler()
    controller = start_smtp(handler)
    settings = smtp_settings(settings, controller)
    controller.stop()

    with pytest.raises(SmtpConnectError) as info:
        report_and_send(con, settings, now=NOW)
    assert f"smtp://127.0.0.1:{controller.port}" in str(info.value)
    assert unreported(con) == 18
    assert con.execute("SELECT status, transport FROM report_log").fetchall() == [
        ("failed", "smtp")
    ]

    back = Controller(handler, hostname="127.0.0.1", port=controller.port)  # same port
    back.start()
    try:
        delivery = report_and_send(con, settings, now=NOW)
    finally:
        back.stop()
    assert delivery.change_count == 18 and len(handler.messages) == 1
    assert unreported(con) == 0


class RefusingHandler(RecordingHandler):
    def __init__(self) -> None:
        super().__init__()
        self.refuse = True

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse:
            return "554 5.7.1 message refused by policy"
        return await super().handle_DATA(server, session, envelope)


def test_refused_message_is_retried_with_the_same_message_id(con, settings, sample):
    handler = RefusingHandler()
    controller = start_smtp(handler)
    try:
        settings = smtp_settings(settings, controller)
        with pytest.raises(SmtpRejectedError, match="554 5.7.1 message refused by policy"):
            report_and_send(con, settings, now=NOW)
        assert unreported(con) == 18
        handler.refuse = False
        delivery = report_and_send(con, settings, now=NOW)
    finally:
        controller.stop()
    assert parse(handler.messages[0][2])["Message-ID"] == delivery.message_id
    log = con.execute("SELECT status, message_id FROM report_log ORDER BY report_id").fetchall()
    assert log == [("failed", delivery.message_id), ("sent", delivery.message_id)]


def test_a_message_id_python_would_fold_is_sent_on_one_line(con, settings, sample, smtp_server):
    # <ratedeck-report-(24 hex)@(32 characters)>, 75 characters: Python folded it after
    # "Message-ID:" and finance's mail read it back as " <...>", not the id report_log keeps
    controller, handler = smtp_server
    settings = smtp_settings(
        settings, controller, sender="ratedeck@reports.finance-team.example.com"
    )
    delivery = report_and_send(con, settings, now=NOW)
    assert len(delivery.message_id) == 75
    [(_, _, raw)] = handler.messages
    assert header_lines(raw, "Message-ID") == [f"Message-ID: {delivery.message_id}".encode()]
    assert parse(raw)["Message-ID"] == delivery.message_id
    log = con.execute("SELECT message_id FROM report_log").fetchall()
    assert log == [(delivery.message_id,)]


class RcptRefusingHandler(RecordingHandler):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address.startswith("cfo@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_refused_recipient_fails_the_whole_report(con, settings, sample):
    controller = start_smtp(RcptRefusingHandler())
    try:
        with pytest.raises(SmtpRejectedError, match="cfo@example.com: 550"):
            report_and_send(con, smtp_settings(settings, controller), now=NOW)
    finally:
        controller.stop()
    assert unreported(con) == 18


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (auth_data.login, auth_data.password) == (b"ratedeck", b"s3cret!")
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535


@pytest.fixture
def auth_server():
    handler = RecordingHandler()
    controller = start_smtp(handler, authenticator=authenticator, auth_require_tls=False)
    yield controller, handler
    controller.stop()


def with_secrets(settings, user, password):
    env = {"RATEDECK_SMTP_USER": user, "RATEDECK_SMTP_PASSWORD": password}
    base = load_settings(env=env)
    return base.with_overrides(**settings.model_dump())


def test_authenticated_smtp(con, settings, sample, auth_server):
    controller, handler = auth_server
    good = smtp_settings(with_secrets(settings, "ratedeck", "s3cret!"), controller)
    assert report_and_send(con, good, now=NOW).status == "sent"
    assert len(handler.messages) == 1


def test_wrong_password_never_appears_in_the_error(con, settings, sample, auth_server):
    controller, handler = auth_server
    bad = smtp_settings(with_secrets(settings, "ratedeck", "hunter2-wrong"), controller)
    with pytest.raises(SmtpAuthError) as info:
        report_and_send(con, bad, now=NOW)
    assert "hunter2" not in str(info.value) and "hunter2" not in repr(info.value)
    assert not handler.messages and unreported(con) == 18
    logged = con.execute("SELECT error FROM report_log").fetchall()[0][0]
    assert "login refused" in logged and "hunter2" not in logged


def test_credentials_are_never_sent_in_clear_to_a_remote_host(settings):
    from pipeline.notify.smtp import send_smtp

    # settings refuse this combination at start-up; send_smtp refuses it on its own too
    remote = SmtpSettings(host="smtp.example.com", starttls=False)
    with pytest.raises(NotifyConfigError, match="without TLS"):
        send_smtp(
            email.message.EmailMessage(), remote, user=SecretStr("u"), password=SecretStr("p")
        )


def test_outbox_eml_when_no_smtp_host(con, settings, sample):
    delivery = report_and_send(con, settings, now=NOW)
    assert delivery.status == "outboxed"
    [eml] = list(settings.outbox_dir.glob("*.eml"))
    assert str(eml) == delivery.target
    assert not list(settings.outbox_dir.glob(".*"))  # no temp file left behind
    message = parse(eml.read_bytes())
    assert message["Message-ID"] == delivery.message_id
    assert len(attachments(message)) == 2
    assert con.execute("SELECT status, target FROM report_log").fetchall() == [
        ("outboxed", str(eml))
    ]
    assert report_and_send(con, settings, now=NOW) is None


def test_an_unwritable_outbox_leaves_changes_unreported(con, settings, sample):
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.outbox_dir.write_text("a file where the folder should be")
    with pytest.raises(DeliveryError, match="outbox"):
        report_and_send(con, settings, now=NOW)
    assert unreported(con) == 18


@pytest.mark.slow  # renders and sends twice
def test_stale_report_is_refused(con, settings, sample):
    first = build_report(con, settings, now=NOW)
    second = build_report(con, settings, now=NOW)
    send_report(con, settings, first)
    from pipeline.reports.errors import StaleReportError

    with pytest.raises(StaleReportError):
        send_report(con, settings, second)
    assert len(list(settings.outbox_dir.glob("*.eml"))) == 1


def test_short_notice_increase_is_flagged_in_the_announced_section(con, settings, sample):
    report = build_report(con, settings, now=NOW)
    rows = {(r.group, r.key): r for r in report.sections[0].rows}
    germany, brazil = rows["current", "49"], rows["current", "55"]
    assert germany.upcoming and germany.short_notice and germany.notice_days == Decimal("3")
    assert brazil.upcoming and not brazil.short_notice  # 10 days of notice
    assert not rows["current", "91"].short_notice  # undated deck: in force when seen
    announced = report.html.split("Announced changes")[1].split("</table>")[0]
    assert announced.count("short notice</span>") == 1
    assert announced.index("Germany") < announced.index("Brazil")  # by effective date
    assert "2026-11-05 06:00 UTC (3 d notice) current 49 Germany" in report.text
    assert "[SHORT NOTICE]" in report.text


def test_hostile_destination_names_are_escaped_and_neutralised(con, decks, settings):
    hostile = '<img src=x onerror=alert(1)> & =HYPERLINK("http://evil")'
    decks.snapshot("current", T0, [Rate("44", "UK", "0.0100")])
    decks.snapshot("current", T1, [Rate("44", "UK", "0.0100"), Rate("447", hostile, "0.03")])
    decks.snapshot(
        "current",
        T1 + timedelta(hours=1),
        [Rate("44", "UK", "0.0100"), Rate("447", "=1+1", "0.03")],
    )
    report = build_report(con, settings, now=NOW + timedelta(hours=1))
    assert "<img src=x" not in report.html
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; =HYPERLINK" in report.html
    csv_file, xlsx_file = report.attachments
    assert b"'=1+1" in csv_file.data
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_file.data))["Voice changes"]
    names = {c.value for row in sheet.iter_rows(2) for c in row if isinstance(c.value, str)}
    assert "'=1+1" in names
    assert all(not (isinstance(n, str) and n.startswith("=")) for n in names)


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def test_crash_between_sending_and_recording_resends_the_same_message_id(
    con, settings, sample, smtp_server, monkeypatch
):
    """At-least-once in that window: the duplicate carries the same Message-ID."""
    import pipeline.reports.send as send_module

    controller, handler = smtp_server
    settings = smtp_settings(settings, controller)

    def crash(*args):
        raise RuntimeError("process killed")

    monkeypatch.setattr(send_module, "_record_delivery", crash)
    with pytest.raises(RuntimeError):
        report_and_send(con, settings, now=NOW)
    monkeypatch.undo()
    assert unreported(con) == 18
    delivery = report_and_send(con, settings, now=NOW)
    ids = [parse(raw)["Message-ID"] for _, _, raw in handler.messages]
    assert ids == [delivery.message_id, delivery.message_id]
    assert unreported(con) == 0


def test_a_withdrawn_announcement_is_reported_once_as_withdrawn(con, decks, settings):
    germany = Rate("49", "Germany", "0.0120")
    decks.snapshot("current", T0, [germany])
    scheduled = Rate("49", "Germany", "0.0150", effective_at=T1 + timedelta(days=5))
    decks.snapshot("current", T1, [germany, scheduled])
    first = report_and_send(con, settings, now=NOW)
    assert first.subject == "ratedeck: 1 price change (1 up) on current"
    decks.snapshot("current", T1 + timedelta(days=1), [germany])
    report = build_report(con, settings, now=NOW + timedelta(days=1))
    assert report.subject == "ratedeck: 1 price change on current"  # up/down counts only
    assert "Germany: WITHDRAWN, the scheduled price 0.0150 will not apply" in report.text
    assert "badge-withdrawn" in report.html
