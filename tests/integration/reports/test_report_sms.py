"""SMS rate changes in the finance email: real SMS lists (JSON -> normalize_sms_rates ->
load_sms_snapshot, names from the real MCC/MNC reference), a real SMTP server on loopback."""

import csv
import email
import io
from datetime import timedelta
from decimal import Decimal
from email import policy

import openpyxl
import pytest
from support.reports import (
    T0,
    T1,
    populate_sample,
    populate_sms_sample,
)
from support.smtp import RecordingHandler, start_smtp

from pipeline.notify.errors import SmtpConnectError
from pipeline.reports import build_report, report_and_send

NOW = T1 + timedelta(hours=1)
STAMP = "20261102-0700"
VODAFONE_IE_LINE = (
    "  +10.00%   demo:1 272-01 Ireland – Vodafone: 0.0420 -> 0.0462 per message, "
    "effective 2026-11-02 06:00 UTC"
)


def smtp_settings(settings, controller):
    return settings.with_overrides(
        smtp={"host": "127.0.0.1", "port": controller.port, "starttls": False}
    )


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)


def attachments(message) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in message.iter_attachments()}


def unreported_sms(con) -> int:
    return con.execute(
        "SELECT count(*) FROM sms_rate_change c WHERE NOT EXISTS ("
        " SELECT 1 FROM report_change r WHERE r.kind = 'sms' AND r.change_id = c.change_id)"
    ).fetchall()[0][0]


def sheet_rows(workbook, name: str) -> list[dict]:
    sheet = workbook[name]
    header = [c.value for c in sheet[1]]
    return [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(2)]


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def test_sms_changes_go_into_the_email_and_attachments_exactly(
    con, decks, sms, settings, smtp_server
):
    populate_sample(decks)
    populate_sms_sample(sms)
    controller, handler = smtp_server
    settings = smtp_settings(settings, controller)

    delivery = report_and_send(con, settings, now=NOW)

    assert delivery.change_count == 18 + 8
    [(_, _, raw)] = handler.messages
    message = parse(raw)
    # the tech prefixes and channels do not fit the subject's one line: they are in the body
    assert message["Subject"] == "ratedeck: 18 voice and 8 SMS price changes (15 up, 5 down)"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "18 voice and 8 SMS price changes: 15 up, 5 down" in text
    assert VODAFONE_IE_LINE in text
    assert (
        "demo:1 208-01 France – Orange: removed: no longer in the price list (was 0.0480)" in text
    )
    assert "<h2>SMS</h2>" in html and "Largest SMS increases" in html
    assert 'Largest SMS decrease: <span class="down">-10.00%</span> on United Kingdom' in html
    assert "USD (voice per minute, SMS per message)" in html

    files = attachments(message)
    assert list(files) == [
        f"ratedeck-voice-changes-{STAMP}.csv",
        f"ratedeck-sms-changes-{STAMP}.csv",
        f"ratedeck-price-changes-{STAMP}.xlsx",
    ]
    warehouse = {
        row[0]: row
        for row in con.execute(
            "SELECT change_id, channel, mcc, mnc, change_type, old_rate, new_rate, rate_change, "
            "rate_change_pct FROM sms_rate_change"
        ).fetchall()
    }
    assert len(warehouse) == 8

    sms_csv = files[f"ratedeck-sms-changes-{STAMP}.csv"]  # text/csv: decoded by the parser
    rows = list(csv.DictReader(io.StringIO(sms_csv, newline="")))
    assert {r["change_id"] for r in rows} == set(warehouse)
    for r in rows:
        _, channel, mcc, mnc, change_type, old, new, change, pct = warehouse[r["change_id"]]
        assert (r["channel"], r["mcc"], r["mnc"]) == (channel, mcc, mnc)  # text: "01"
        assert r["change_type"] == change_type
        assert r["old_rate"] == ("" if old is None else format(old, "f"))  # exact digits
        assert r["new_rate"] == ("" if new is None else format(new, "f"))
        assert r["rate_change"] == ("" if change is None else format(change, "f"))
        assert r["rate_change_pct"] == ("" if pct is None else format(pct, "f"))

    workbook = openpyxl.load_workbook(io.BytesIO(files[f"ratedeck-price-changes-{STAMP}.xlsx"]))
    assert workbook.sheetnames == ["Voice changes", "SMS changes"]
    assert len(sheet_rows(workbook, "Voice changes")) == 18
    cells = sheet_rows(workbook, "SMS changes")
    assert len(cells) == 8
    for cell in cells:
        _, channel, mcc, mnc, _, old, new, change, pct = warehouse[cell["Change id"]]
        assert (cell["Channel"], cell["MCC"], cell["MNC"]) == (channel, mcc, mnc)
        assert _dec(cell["Old rate"]) == old
        assert _dec(cell["New rate"]) == new
        assert _dec(cell["Rate change"]) == change
        assert _dec(cell["Rate change %"]) == (None if pct is None else pct / 100)
    vodafone = next(c for c in cells if c["MCC-MNC"] == "272-01")
    assert (vodafone["Country"], vodafone["Network"]) == ("Ireland", "Vodafone")
    assert workbook["SMS changes"]["K1"].value == "New rate"
    new_rates = [row[10] for row in workbook["SMS changes"].iter_rows(2)]
    assert all(c.data_type == "n" and c.number_format == "0.0000####" for c in new_rates if c.value)

    assert unreported_sms(con) == 0
    recorded = con.execute(
        "SELECT kind, count(*) FROM report_change GROUP BY kind ORDER BY kind"
    ).fetchall()
    assert recorded == [("sms", 8), ("voice", 18)]


def test_a_second_run_sends_nothing_and_later_sms_changes_come_alone(
    con, sms, settings, smtp_server
):
    controller, handler = smtp_server
    settings = smtp_settings(settings, controller)
    populate_sms_sample(sms)
    first = report_and_send(con, settings, now=NOW)
    assert first.change_count == 8
    assert report_and_send(con, settings, now=NOW) is None
    assert build_report(con, settings, now=NOW) is None

    sms.snapshot("demo:2", T1 + timedelta(days=1), {(234, 15): "0.0301", (262, 2): "0.0580"})
    later = report_and_send(con, settings, now=NOW + timedelta(days=1))
    assert later.change_count == 1
    subjects = [parse(raw)["Subject"] for _, _, raw in handler.messages]
    assert subjects == [
        "ratedeck: 8 SMS price changes on SMS demo:1, SMS demo:2",  # one line: no counts
        "ratedeck: 1 SMS price change (1 up) on SMS demo:2",
    ]
    text = parse(handler.messages[1][2]).get_body(("plain",)).get_content()
    assert "demo:2 234-15 United Kingdom – Vodafone UK: 0.0290 -> 0.0301 per message" in text


def test_sms_only_changes_make_an_email_with_its_own_attachments(con, sms, settings):
    populate_sms_sample(sms)
    delivery = report_and_send(con, settings, now=NOW)  # no SMTP host: the outbox
    assert delivery.status == "outboxed"
    message = parse(open(delivery.target, "rb").read())
    assert message["Subject"].startswith("ratedeck: 8 SMS price changes ")
    html = message.get_body(("html",)).get_content()
    assert "<h1>8 SMS price changes</h1>" in html
    assert "<h2>Voice</h2>" not in html
    assert "Prices in USD per message" in html
    assert 'Largest increase: <span class="up">+30.00%</span> on Ireland' in html
    [chart] = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert chart.get_content().startswith(b"\x89PNG")
    files = attachments(message)
    assert list(files) == [
        f"ratedeck-sms-changes-{STAMP}.csv",
        f"ratedeck-price-changes-{STAMP}.xlsx",
    ]
    workbook = openpyxl.load_workbook(io.BytesIO(files[f"ratedeck-price-changes-{STAMP}.xlsx"]))
    assert workbook.sheetnames == ["SMS changes"]
    assert report_and_send(con, settings, now=NOW) is None


def test_unknown_networks_are_flagged_not_dropped(con, sms, settings):
    populate_sms_sample(sms)
    report = build_report(con, settings, now=NOW)
    [section] = report.sections
    rows = {row.key: row for row in section.rows}
    assert rows["272-99"].unknown_network and rows["272-99"].name == "Ireland"  # MCC known
    assert rows["100-01"].unknown_network and rows["100-01"].name == "unknown country"
    assert not rows["272-01"].unknown_network
    assert "+30.00%   demo:1 272-99 Ireland [UNKNOWN NETWORK]: 0.0400 -> 0.0520" in report.text
    increases = report.html.split("Largest SMS increases")[1].split("</table>")[0]
    assert (
        '<span class="name">Ireland</span> <span class="badge badge-unknown">unknown network</span>'
        in increases
    )
    summary = report.html.split("<h2>SMS</h2>")[1].split("</table>")[0]
    assert "Unknown networks" in summary
    csv_file = next(a for a in report.attachments if a.filename.endswith(".csv"))
    by_code = {r["network_code"]: r for r in csv.DictReader(io.StringIO(csv_file.data.decode()))}
    assert by_code["272-99"]["unknown_network"] == "yes"
    assert (by_code["272-99"]["country"], by_code["272-99"]["network"]) == ("Ireland", "")
    assert by_code["100-01"]["unknown_network"] == "yes" and by_code["100-01"]["country"] == ""
    assert "not in the MCC/MNC reference" in by_code["100-01"]["effect"]
    assert by_code["272-01"]["unknown_network"] == "no"


def test_hostile_network_names_are_escaped_and_neutralised(con, sms, settings):
    # names come from a public reference nobody here controls
    sms.add_network(100, 2, "@Evil <img src=x onerror=alert(1)>", '=HYPERLINK("http://evil")')
    sms.add_network(100, 3, "Plain", "-2+3")
    sms.snapshot("demo:1", T0, {(234, 15): "0.0300", (100, 3): "0.0400"})
    sms.snapshot("demo:1", T1, {(234, 15): "0.0300", (100, 2): "0.0500", (100, 3): "0.0450"})
    report = build_report(con, settings, now=NOW)

    assert "<img src=x" not in report.html
    assert "@Evil &lt;img src=x onerror=alert(1)&gt; – =HYPERLINK(&#34;http://evil&#34;)" in (
        report.html
    )
    csv_file, xlsx_file = report.attachments
    rows = list(csv.DictReader(io.StringIO(csv_file.data.decode())))
    assert {r["country"] for r in rows} == {"'@Evil <img src=x onerror=alert(1)>", "Plain"}
    assert {r["network"] for r in rows} == {'\'=HYPERLINK("http://evil")', "'-2+3"}
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_file.data))["SMS changes"]
    texts = [c.value for row in sheet.iter_rows(2) for c in row if isinstance(c.value, str)]
    assert '\'=HYPERLINK("http://evil")' in texts and "'-2+3" in texts
    assert not any(t.startswith(("=", "+", "-", "@")) for t in texts)


def test_server_down_leaves_sms_changes_unreported_until_it_is_back(con, sms, settings):
    populate_sms_sample(sms)
    handler = RecordingHandler()
    controller = start_smtp(handler)
    settings = smtp_settings(settings, controller)
    controller.stop()
    with pytest.raises(SmtpConnectError):
        report_and_send(con, settings, now=NOW)
    assert unreported_sms(con) == 8

    controller = start_smtp(handler)
    try:
        delivery = report_and_send(con, smtp_settings(settings, controller), now=NOW)
    finally:
        controller.stop()
    assert delivery.change_count == 8 and len(handler.messages) == 1
    assert unreported_sms(con) == 0
