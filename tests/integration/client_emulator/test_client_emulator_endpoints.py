"""Every endpoint of the collection: the client's typed answers equal what the emulator's market
holds, byte for byte and Decimal for Decimal."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest
import xlrd

from pipeline.commpeak import VENDOR_ACCEPT, CommPeakClient, Rate, SmsRate
from pipeline.emulator import EmulatorServer, MarketDay, render_deck
from pipeline.emulator import xls as emulator_xls
from pipeline.emulator.protocol import REDACTED
from pipeline.emulator.speech import FIRST_TASK_ID, PHRASES
from pipeline.ingest.voice import normalize_voice_deck

SMS_USER, SMS_CHANNEL = "acme", "7"


def _as_rates(rows) -> list[Rate]:
    return [Rate(r.prefix, r.destination, r.price) for r in rows]


def test_customer(client: CommPeakClient, market_day: MarketDay) -> None:
    expected = market_day.customer()
    customer = client.customer()
    assert customer.email == expected["email"]
    assert customer.balance == expected["balance"] and isinstance(customer.balance, Decimal)
    assert customer.sms_balance == expected["sms_balance"]
    assert customer.temporary_credit == expected["temporary_credit"]
    raw = client.customer_raw()
    assert json.loads(raw, parse_float=Decimal)["customer"]["balance"] == expected["balance"]


def test_rates_list_of_every_tech_prefix(client: CommPeakClient, market_day: MarketDay) -> None:
    by_tp = {tp: client.rates(tp) for tp in market_day.tech_prefixes}
    for tp, rates in by_tp.items():
        assert rates == _as_rates(market_day.current_rates(tp))
    assert len(by_tp["current"]) == market_day.market.deck_size
    # the other plans are priced differently: the same prefix does not cost the same
    ireland = {tp: {r.prefix: r.price for r in rates}["353"] for tp, rates in by_tp.items()}
    assert len(set(ireland.values())) == len(ireland) >= 3


def test_search_by_phone_prefix(client: CommPeakClient, market_day: MarketDay) -> None:
    found = client.search_rates("current", "35389")
    assert found == _as_rates(market_day.search("current", "35389"))
    assert found and all(r.prefix.startswith("35389") for r in found)
    assert client.search_rates("current", "999999999") == []


def test_download_csv(client: CommPeakClient, market_day: MarketDay, tmp_path: Path) -> None:
    dest = tmp_path / "raw" / "current.csv"
    download = client.download_rates("current", dest, fmt="csv")
    served = render_deck(market_day.voice_deck("current"), "csv")
    assert dest.read_bytes() == served
    assert download.path == dest and download.size_bytes == len(served)
    assert download.sha256 == hashlib.sha256(served).hexdigest()
    assert download.content_type == "text/csv"
    assert download.filename == f"rates_current_{market_day.date.isoformat()}.csv"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["current.csv"]  # no .part left

    result = normalize_voice_deck(served, source=str(dest))
    assert result.source_format == "csv" and result.rejects.height == 0
    rows = {r["prefix"]: r for r in result.rows.iter_rows(named=True)}
    deck = market_day.voice_deck("current")
    assert len(rows) == len(deck)
    for row in deck:
        got = rows[row.prefix]
        assert (got["destination"], got["price"]) == (row.destination, row.price)
        assert (got["initial_seconds"], got["increment_seconds"]) == (
            row.initial_seconds,
            row.increment_seconds,
        )


def test_download_xls_spanning_sheets_reads_back_whole(
    emulator: EmulatorServer,
    client: CommPeakClient,
    market_day: MarketDay,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A real >65,536-row deck takes ~9 s to build, render and read: lower the sheet size so the
    # same multi-sheet path (header on every sheet) runs on a 1,200-row deck. The 65,536 limit
    # itself is covered by tests/unit/emulator/test_emulator_xls.py.
    monkeypatch.setattr(emulator_xls, "XLS_MAX_ROWS", 500)
    dest = tmp_path / "current.xls"
    download = client.download_rates("current", dest, fmt="xls")
    assert download.content_type == "application/vnd.ms-excel"
    assert download.filename == f"rates_current_{market_day.date.isoformat()}.xls"
    book = xlrd.open_workbook(file_contents=dest.read_bytes())
    assert [s.nrows for s in book.sheets()] == [500, 500, 203]  # 1,200 rows + 3 headers

    result = normalize_voice_deck(dest.read_bytes(), source=str(dest))
    assert result.source_format == "xls" and result.rejects.height == 0
    deck = market_day.voice_deck("current")
    assert result.rows.height == len(deck)
    got = {r["prefix"]: (r["destination"], r["price"]) for r in result.rows.iter_rows(named=True)}
    assert got == {r.prefix: (r.destination, r.price) for r in deck}  # exact, via the double
    assert emulator.request_log[-1].headers["Accept"] == VENDOR_ACCEPT + "application/vnd.ms-excel"


def test_sms_rates(client: CommPeakClient, market_day: MarketDay) -> None:
    rates = client.sms_rates(SMS_USER, SMS_CHANNEL)
    expected = market_day.sms_rates(SMS_USER, SMS_CHANNEL)
    assert rates == [SmsRate(r.mcc, r.mnc, r.rate) for r in expected]
    assert rates and all(isinstance(r.rate, Decimal) for r in rates)
    raw = json.loads(client.sms_rates_raw(SMS_USER, SMS_CHANNEL), parse_float=Decimal)
    assert [Decimal(str(row["rate"])) for row in raw] == [r.rate for r in rates]


def test_speech_recognize_and_result(
    emulator: EmulatorServer, client: CommPeakClient, tmp_path: Path
) -> None:
    recording = tmp_path / "call-0042.wav"
    recording.write_bytes(b"RIFF" + bytes(3 * 16_000))  # ~3 s at the emulator's byte rate
    task_id = client.recognize(
        recording,
        languages="es",
        remote_identifier="call-0042",
        parse_channel=1,
        webhook_url="https://hooks.example.com/speech?x=1",
        task_type="transcribe_and_translate",
    )
    assert task_id == FIRST_TASK_ID  # the collection's example id, on a fresh emulator
    task = emulator.app.speech.get(task_id)
    assert task is not None
    assert (task.languages, task.task_type, task.remote_identifier) == (
        ("es",),
        "transcribe_and_translate",
        "call-0042",
    )
    assert (task.webhook_url, task.parse_channel, task.duration) == (
        "https://hooks.example.com/speech?x=1",
        1,
        3,
    )
    posted = emulator.request_log[-1]
    assert (posted.method, posted.status) == ("POST", 201)
    assert posted.headers["X-Recognition-Token"] == REDACTED  # sent (and kept out of the log)
    assert "Authorization" not in posted.headers
    assert posted.headers["Content-Type"].startswith("multipart/form-data; boundary=")

    result = client.speech_result(task_id)
    assert (result["id"], result["task_type"], result["remote_identifier"]) == (
        task_id,
        "transcribe_and_translate",
        "call-0042",
    )
    assert result["result"]["plain_body"] == PHRASES["es"]
    assert result["result"]["translation_plain_body"] == PHRASES["en"]
    assert emulator.request_log[-1].headers["X-Recognition-Token"] == REDACTED


def test_speech_recognize_bytes_with_defaults(client: CommPeakClient) -> None:
    task_id = client.recognize(b"\x00" * 100)
    result = client.speech_result(task_id)
    assert (result["task_type"], result["languages"], result["duration"]) == (
        "transcribe",
        ["en"],
        1,
    )


def test_every_api_request_carries_the_documented_headers(
    emulator: EmulatorServer, client: CommPeakClient, tmp_path: Path
) -> None:
    client.customer()
    client.rates("current")
    client.search_rates("current", "44")
    client.download_rates("current", tmp_path / "d.csv", fmt="csv")
    client.sms_rates(SMS_USER, SMS_CHANNEL)
    accepts = [(r.path.split("?")[0], r.headers["Accept"]) for r in emulator.request_log]
    assert accepts == [
        ("/customer", VENDOR_ACCEPT + "application/json"),
        ("/rates/current", VENDOR_ACCEPT + "application/json"),
        ("/rates/current/search", VENDOR_ACCEPT + "application/json"),
        ("/rates/current/download", VENDOR_ACCEPT + "text/csv"),
        ("/rates/sms", VENDOR_ACCEPT + "application/json"),
    ]
    assert all(r.headers["Authorization"] == REDACTED for r in emulator.request_log)
    assert all(r.status == 200 and r.fault is None for r in emulator.request_log)


def test_the_market_moves_between_days(emulator: EmulatorServer, client: CommPeakClient) -> None:
    before = {r.prefix: r.price for r in client.rates("current")}
    balance = client.customer().balance
    emulator.advance_day(3)  # increases come with notice: a few days show both directions
    after = {r.prefix: r.price for r in client.rates("current")}
    assert after.keys() != before.keys()
    assert any(after[p] > before[p] for p in after.keys() & before.keys())
    assert any(after[p] < before[p] for p in after.keys() & before.keys())
    assert client.customer().balance != balance
