"""The emulator over real loopback HTTP, spoken to with plain ``requests``."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
import requests
import xlrd

from pipeline.emulator.market import Market
from pipeline.emulator.server import EmulatorServer

JSON_ACCEPT = "application/vnd.commpeak.com; version=1,application/json"
CSV_ACCEPT = "application/vnd.commpeak.com; version=1,text/csv"
XLS_ACCEPT = "application/vnd.commpeak.com; version=1,application/vnd.ms-excel"
DENIED = b"HTTP Token: Access denied.\n"


def auth(accept: str = JSON_ACCEPT, key: str = "emulator-key") -> dict[str, str]:
    return {"Authorization": f"Token {key}", "Accept": accept}


def get(server: EmulatorServer, path: str, headers=None, **kwargs) -> requests.Response:
    return requests.get(
        server.url + path, headers=auth() if headers is None else headers, timeout=10, **kwargs
    )


# --- the API ---------------------------------------------------------------------------------


def test_customer(emulator: EmulatorServer) -> None:
    response = get(emulator, "/customer")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    customer = response.json(parse_float=Decimal)["customer"]
    assert set(customer) == {"email", "balance", "sms_balance", "temporary_credit"}
    assert customer["balance"] == emulator.app.market_day.customer()["balance"]


def test_customer_before_the_days_top_up_until_the_next_market_date(
    emulator: EmulatorServer,
) -> None:
    day = emulator.market_date
    emulator.serve_balance_before_top_up()
    before = get(emulator, "/customer").json(parse_float=Decimal)["customer"]["balance"]
    assert before == emulator.app.market_day.customer(before_top_up=True)["balance"]
    emulator.set_market_date(day)  # any market date serves the day's closing balance again
    closing = get(emulator, "/customer").json(parse_float=Decimal)["customer"]["balance"]
    assert closing == emulator.app.market_day.customer()["balance"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Token wrong"}, {"Authorization": "emulator-key"}],
    ids=["missing", "wrong", "no-scheme"],
)
def test_401_is_the_rails_text(emulator: EmulatorServer, headers: dict[str, str]) -> None:
    response = get(emulator, "/rates/current", headers)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == DENIED


def test_rates_json_numbers_are_exact(emulator: EmulatorServer) -> None:
    response = get(emulator, "/rates/021001")
    rates = response.json(parse_float=Decimal)["rates"]
    expected = emulator.app.market_day.current_rates("021001")
    assert [(r["prefix"], r["destination"], r["price"]) for r in rates] == [
        (r.prefix, r.destination, r.price) for r in expected
    ]
    first = expected[0]
    assert f'"price":{format(first.price, "f")}'.encode() in response.content


def test_unknown_tech_prefix_404(emulator: EmulatorServer) -> None:
    assert get(emulator, "/rates/021099").status_code == 404
    assert get(emulator, "/rates/021099/download", auth(CSV_ACCEPT)).status_code == 404


def test_accept_negotiation(emulator: EmulatorServer) -> None:
    assert (
        get(
            emulator, "/customer", auth("application/vnd.commpeak.com; version=2,application/json")
        ).status_code
        == 406
    )
    assert get(emulator, "/customer", auth("text/csv")).status_code == 406
    assert get(emulator, "/rates/current/download", auth(JSON_ACCEPT)).status_code == 406
    plain = get(emulator, "/rates/current/download", {"Authorization": "Token emulator-key"})
    assert plain.status_code == 200 and plain.headers["Content-Type"] == "text/csv"


def test_csv_download(emulator: EmulatorServer) -> None:
    response = get(emulator, "/rates/current/download", auth(CSV_ACCEPT))
    assert response.headers["Content-Type"] == "text/csv"
    name = f"rates_current_{emulator.market_date}.csv"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Destination", "Prefix", "Price", "Billing Increments", "Effective Date"]
    assert len(rows) - 1 == len(emulator.app.market_day.voice_deck("current"))


@pytest.mark.parametrize("fmt_accept", [CSV_ACCEPT, XLS_ACCEPT], ids=["csv", "xls"])
def test_current_downloads_the_default_tech_prefix_deck(fmt_accept: str) -> None:
    """Issue 13: ``current`` is the default tech prefix's deck, byte for byte."""
    market = Market(7, date(2026, 11, 1), 200, effective_dates=True, default_tech_prefix="021001")
    with EmulatorServer(market) as server:
        current, default, other = (
            get(server, f"/rates/{tp}/download", auth(fmt_accept)).content
            for tp in ("current", "021001", "021002")
        )
    assert current == default
    assert current != other


def test_xls_download_is_a_real_workbook(emulator: EmulatorServer) -> None:
    response = get(emulator, "/rates/021002/download", auth(XLS_ACCEPT))
    assert response.headers["Content-Type"] == "application/vnd.ms-excel"
    assert 'filename="rates_021002_' in response.headers["Content-Disposition"]
    assert response.headers["Content-Disposition"].endswith(".xls")
    sheet = xlrd.open_workbook(file_contents=response.content).sheet_by_index(0)
    deck = emulator.app.market_day.voice_deck("021002")
    assert sheet.nrows == len(deck) + 1
    assert sheet.row_values(1)[:2] == [deck[0].destination, deck[0].prefix]


def test_search_sms_and_speech(emulator: EmulatorServer) -> None:
    found = get(emulator, "/rates/current/search", params={"prefix": "44"}).json()["rates"]
    assert found and all(r["prefix"].startswith("44") for r in found)
    sms = get(emulator, "/rates/sms", params={"username": "acme", "id": "1"})
    assert sms.headers["Content-Type"] == "application/json"
    assert {"rate": 0, "mcc": 10, "mnc": 210}.keys() == sms.json()[0].keys()
    token = {"X-Recognition-Token": "emulator-recognition"}
    denied = requests.post(
        emulator.url + "/speech/recognize.json", files={"recording": b"x"}, timeout=10
    )
    assert denied.status_code == 401
    created = requests.post(
        emulator.url + "/speech/recognize.json",
        headers=token,
        data={"languages": "en", "remote_identifier": "call-1"},
        files={"recording": ("call.wav", b"\x00" * 64_000, "audio/wav")},
        timeout=10,
    )
    assert created.status_code == 201
    task_id = created.json()["task"]["id"]
    result = requests.get(f"{emulator.url}/speech/result/{task_id}.json", headers=token, timeout=10)
    assert result.json()["remote_identifier"] == "call-1" and result.json()["duration"] == 4
    missing = requests.get(f"{emulator.url}/speech/result/1.json", headers=token, timeout=10)
    assert missing.status_code == 404


def test_set_market_date_changes_what_is_served(emulator: EmulatorServer) -> None:
    before = get(emulator, "/rates/current/download", auth(CSV_ACCEPT)).content
    emulator.set_market_date(date(2026, 11, 3))
    after = get(emulator, "/rates/current/download", auth(CSV_ACCEPT))
    assert after.content != before
    assert "2026-11-03" in after.headers["Content-Disposition"]
    assert emulator.advance_day() == date(2026, 11, 4)


def test_request_log_has_no_secrets(emulator: EmulatorServer) -> None:
    get(emulator, "/customer")
    requests.get(
        emulator.url + "/speech/result/1.json",
        headers={"X-Recognition-Token": "emulator-recognition"},
        timeout=10,
    )
    log = emulator.request_log
    assert [(r.method, r.path, r.status) for r in log] == [
        ("GET", "/customer", 200),
        ("GET", "/speech/result/1.json", 404),
    ]
    assert log[0].headers["Authorization"] == "[redacted]"
    assert log[0].headers["Accept"] == JSON_ACCEPT
    assert "emulator-key" not in repr(log) + repr(emulator)
    assert "emulator-recognition" not in repr(log)


def test_keep_alive_session_serves_many_requests(emulator: EmulatorServer) -> None:
    with requests.Session() as session:
        session.headers.update(auth())
        statuses = [
            session.get(emulator.url + "/customer", timeout=10).status_code for _ in range(5)
        ]
    assert statuses == [200] * 5


# --- faults ----------------------------------------------------------------------------------


def test_fault_401_and_404(emulator: EmulatorServer) -> None:
    emulator.set_faults("401:1,404:1")
    first = get(emulator, "/customer")
    assert (first.status_code, first.content) == (401, DENIED)
    assert get(emulator, "/rates/current").status_code == 404
    assert get(emulator, "/rates/current").status_code == 200


def test_fault_429_then_normal_service(emulator: EmulatorServer) -> None:
    emulator.set_faults("429:2@0.01")
    responses = [get(emulator, "/customer") for _ in range(3)]
    assert [r.status_code for r in responses] == [429, 429, 200]
    assert responses[0].headers["Retry-After"] == "0.01"


def test_fault_500_and_503_on_a_path(emulator: EmulatorServer) -> None:
    emulator.set_faults("503:1@2/download,500:1")
    assert get(emulator, "/rates/current/download", auth(CSV_ACCEPT)).status_code == 503
    unavailable = emulator.request_log[-1]
    assert unavailable.fault == "503"
    assert get(emulator, "/customer").status_code == 500
    assert get(emulator, "/rates/current/download", auth(CSV_ACCEPT)).status_code == 200


def test_fault_503_carries_retry_after(emulator: EmulatorServer) -> None:
    emulator.set_faults("503:1@2")
    response = get(emulator, "/customer")
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    assert response.headers["Content-Type"].startswith("text/html")


def test_fault_slow_makes_a_client_time_out(emulator: EmulatorServer) -> None:
    emulator.set_faults("slow:30x1")
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(emulator.url + "/customer", headers=auth(), timeout=0.3)
    assert get(emulator, "/customer").status_code == 200  # stop() also wakes the sleeper


def test_fault_reset(emulator: EmulatorServer) -> None:
    emulator.set_faults("reset:1")
    with pytest.raises(requests.exceptions.ConnectionError):
        get(emulator, "/customer")
    assert emulator.request_log[-1].status is None
    assert get(emulator, "/customer").status_code == 200


def test_fault_truncate(emulator: EmulatorServer) -> None:
    emulator.set_faults("truncate:1")
    with pytest.raises(
        (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)
    ):
        get(emulator, "/rates/current/download", auth(CSV_ACCEPT))
    assert get(emulator, "/rates/current/download", auth(CSV_ACCEPT)).status_code == 200


def test_fault_truncate_is_visible_without_body_checks(emulator: EmulatorServer) -> None:
    emulator.set_faults("truncate:1")
    response = requests.get(emulator.url + "/customer", headers=auth(), timeout=10, stream=True)
    declared = int(response.headers["Content-Length"])
    with pytest.raises(
        (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)
    ):
        response.content  # noqa: B018 - reading is the point
    assert declared > 0


def test_fault_html_empty_collapse_bad_xls(emulator: EmulatorServer) -> None:
    emulator.set_faults("html:1,empty:1,collapse:1,bad-xls:1")
    html = get(emulator, "/rates/current/download", auth(CSV_ACCEPT))
    assert (html.status_code, html.headers["Content-Type"]) == (200, "text/html; charset=utf-8")
    empty = get(emulator, "/rates/current/download", auth(CSV_ACCEPT)).content.decode()
    assert empty.splitlines() == ["Destination,Prefix,Price,Billing Increments,Effective Date"]
    collapsed = get(emulator, "/rates/current/download", auth(CSV_ACCEPT)).content.decode()
    full = len(emulator.app.market_day.voice_deck("current"))
    assert 0 < len(collapsed.splitlines()) - 1 < full // 10
    bad = get(emulator, "/rates/current/download", auth(XLS_ACCEPT))
    assert bad.headers["Content-Type"] == "application/vnd.ms-excel"
    with pytest.raises((xlrd.XLRDError, xlrd.compdoc.CompDocError)):
        xlrd.open_workbook(file_contents=bad.content)
    assert get(emulator, "/rates/current/download", auth(XLS_ACCEPT)).status_code == 200


def test_faults_from_the_constructor(http_market) -> None:
    with EmulatorServer(http_market, faults="500:1", api_key="other") as server:
        assert get(server, "/customer", auth(key="other")).status_code == 500
        assert get(server, "/customer", auth(key="other")).status_code == 200
        assert get(server, "/customer").status_code == 401
