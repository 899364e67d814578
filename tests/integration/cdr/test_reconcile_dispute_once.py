"""A day's disputed calls reach finance in full once (docs/finance-email.md#what-the-email-holds):
later emails within the 7-day window say they were already reported, and when, without
attaching them again; a day re-reconciled with other results (a carrier re-export) is sent
again and said to have changed. What each email carried is recorded in report_dispute with
the same exactly-once machinery as report_change: a crash after the server accepted the
email resends those very bytes and records them, never a second email with the disputes."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from openpyxl import load_workbook
from support import delivery_crash_driver
from support.reconcile import balance_snapshots, carrier_market, load_market_day, market_settings
from support.reports import DeckHistory, Rate
from support.smtp import KillingHandler, RecordingHandler, run_until_killed, running_smtp

from pipeline.emulator import Discrepancies
from pipeline.reports.send import report_and_send
from pipeline.stages.reconcile import import_carrier_file
from pipeline.warehouse.db import Warehouse

pytestmark = pytest.mark.slow  # a market day of calls, SMTP round trips, a killed child

DAY = datetime(2026, 11, 3, tzinfo=UTC).date()
SPARE = "021009"  # a route whose price moves each day: each day has a price-change email
WRONG = Discrepancies(early_price=2, extra_seconds=3, missing_on_carrier=2, missing_on_customer=2)
DRIVER = Path(delivery_crash_driver.__file__)


def disputed_day(tmp_path: Path, settings_for_port):
    """A warehouse in tmp_path/data with DAY's calls (the carrier's errors) and a price change."""
    market = carrier_market(WRONG)
    settings = settings_for_port(25)
    market_day_settings = market_settings(settings.data_dir, market).with_overrides(
        voice={"tech_prefixes": [*market.tech_prefixes, SPARE]}
    )
    manifest = load_market_day(market_day_settings, market, DAY, tmp_path / "in")
    balance_snapshots(market_day_settings, market, [DAY])
    spare_price(settings, 1, "0.1")
    spare_price(settings, 2, "0.2")
    return market_day_settings, manifest


def spare_price(settings, day: int, price: str) -> None:
    with Warehouse(settings).writer() as con:
        fetched = datetime(2026, 11, day, tzinfo=UTC)
        DeckHistory(con).snapshot(SPARE, fetched, [Rate("99", "X", price)])


def settings_for(data_dir: Path):
    return lambda port: delivery_crash_driver.driver_settings(str(data_dir), port)


def text_of(raw: bytes) -> str:
    message = message_from_bytes(raw, policy=policy.default)
    return message.get_body(("plain",)).get_content()


def dispute_rows(raw: bytes) -> list[tuple]:
    """The rows of the reconciliation workbook the email attaches (none: [])."""
    message = message_from_bytes(raw, policy=policy.default)
    for part in message.iter_attachments():
        if part.get_filename().startswith("ratedeck-reconciliation-"):
            sheet = load_workbook(io.BytesIO(part.get_content())).active
            return list(sheet.iter_rows(min_row=2, values_only=True))
    return []


def recorded(settings) -> list[tuple]:
    with Warehouse(settings).reader() as con:
        return con.execute(
            "SELECT call_day, calls, cost_difference, report_id FROM report_dispute "
            "ORDER BY report_id"
        ).fetchall()


def overbilled(manifest: dict) -> Decimal:
    return sum(
        (
            Decimal(d["billed_cost"])
            - (0 if d["kind"] == "missing_on_customer" else Decimal(d["expected_cost"]))
            for d in manifest["discrepancies"]
        ),
        Decimal(0),
    )


def test_a_dispute_is_sent_once_then_said_to_be_reported_then_sent_again_when_it_changed(
    tmp_path,
):
    data_dir = tmp_path / "data"
    market_settings_, manifest = disputed_day(tmp_path, settings_for(data_dir))
    count = len(manifest["discrepancies"])
    money = signed(overbilled(manifest))
    inbox = RecordingHandler()
    with running_smtp(inbox) as controller:
        settings = settings_for(data_dir)(controller.port)
        first_at = datetime(2026, 11, 4, 6, tzinfo=UTC)
        report_and_send(Warehouse(settings), settings, now=first_at)
        spare_price(settings, 5, "0.3")
        report_and_send(Warehouse(settings), settings, now=first_at + timedelta(days=1))
        # the carrier re-exports the day with one more call the switch never made
        import_carrier_file(market_settings_, one_more_carrier_call(tmp_path / "in"))
        spare_price(settings, 6, "0.4")
        report_and_send(Warehouse(settings), settings, now=first_at + timedelta(days=2))
    first, second, third = (raw for _, _, raw in inbox.messages)

    assert f"Disputed calls: {count} call(s), {money}" in text_of(first)
    assert len(dispute_rows(first)) == count

    assert dispute_rows(second) == []  # not attached again
    text = text_of(second)
    assert "Disputed calls:" not in text and "No new disputed calls." in text
    assert (
        f"2026-11-03: {count} disputed call(s), {money} USD: already reported "
        "in the email of 2026-11-04 06:00 UTC, not attached again." in text
    )

    text = text_of(third)
    assert f"Disputed calls: {count + 1} call(s)" in text
    assert (
        f"2026-11-03: re-reconciled, the disputed calls changed (the email of 2026-11-04 06:00 "
        f"UTC had {count} call(s), {money} USD; now {count + 1} call(s)" in text
    )
    assert len(dispute_rows(third)) == count + 1
    rows = recorded(settings)
    assert [(d, n) for d, n, _, _ in rows] == [(DAY, count), (DAY, count + 1)]
    assert rows[0][2] == overbilled(manifest)


def signed(amount: Decimal) -> str:
    """As the email shows a difference: every digit, at least 2 decimals, + when positive."""
    whole, _, decimals = format(amount.normalize(), "f").partition(".")
    return f"{'+' if amount > 0 else ''}{whole}.{decimals.ljust(2, '0')}"


def one_more_carrier_call(folder: Path) -> Path:
    """The day's export again, with one more call: a number our switch never dialled."""
    [export] = folder.glob("cdrs-*.csv")
    rows = list(csv.reader(io.StringIO(export.read_text())))
    header, last = rows[0], list(rows[-1])
    last[header.index("Call ID")] += "-extra"
    number = header.index("Destination Number")
    last[number] = last[number][:-1] + str((int(last[number][-1]) + 1) % 10)
    path = folder / "cdrs-reexport.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows([*rows, last])
    return path


def test_a_crash_after_the_server_took_the_disputes_resends_those_bytes_and_records_them(
    tmp_path,
):
    data_dir = tmp_path / "data"
    _, manifest = disputed_day(tmp_path, settings_for(data_dir))
    killer = KillingHandler()
    with running_smtp(killer) as controller:
        run_until_killed(DRIVER, ["report", str(data_dir), str(controller.port)], killer)
    [(_, _, crashed)] = killer.messages
    assert len(dispute_rows(crashed)) == len(manifest["discrepancies"])
    assert recorded(settings_for(data_dir)(25)) == []  # the ledger never heard of it

    inbox = RecordingHandler()
    with running_smtp(inbox) as controller:
        settings = settings_for(data_dir)(controller.port)
        spare_price(settings, 5, "0.3")
        report_and_send(Warehouse(settings), settings)
    resent, after = (raw for _, _, raw in inbox.messages)
    assert resent.replace(b"\r\n", b"\n") == crashed.replace(b"\r\n", b"\n")
    assert dispute_rows(after) == []
    assert "already reported in the email of" in text_of(after)
    [(day, calls, _, _)] = recorded(settings)
    assert (day, calls) == (DAY, len(manifest["discrepancies"]))
