"""The API logic without sockets: EmulatorApp.handle(Request) -> Response."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from pipeline.emulator.app import EmulatorApp, Request
from pipeline.emulator.faults import parse_fault
from pipeline.emulator.market import Market

AUTH = {"Authorization": "Token k"}
CSV = {**AUTH, "Accept": "application/vnd.commpeak.com; version=1,text/csv"}


@pytest.fixture(scope="module")
def app() -> EmulatorApp:
    market = Market(seed=7, start_date=date(2026, 11, 1), deck_size=400, effective_dates=True)
    return EmulatorApp(market, api_key="k", recognition_token="t")


def get(app: EmulatorApp, path: str, headers=AUTH, query=None, fault=None):
    return app.handle(
        Request("GET", path, query or {}, headers), parse_fault(fault) if fault else None
    )


def test_unknown_paths_and_methods(app: EmulatorApp) -> None:
    assert get(app, "/nope").status == 404
    response = app.handle(Request("POST", "/customer", {}, AUTH))
    assert response.status == 405 and ("Allow", "GET") in response.headers


def test_missing_or_wrong_token(app: EmulatorApp) -> None:
    for headers in ({}, {"Authorization": "Token wrong"}, {"Authorization": "k"}):
        response = get(app, "/rates/current", headers)
        assert (response.status, response.content_type, response.body) == (
            401,
            "text/plain; charset=utf-8",
            b"HTTP Token: Access denied.\n",
        )


def test_unknown_tech_prefix_is_404(app: EmulatorApp) -> None:
    assert get(app, "/rates/021009").status == 404
    assert get(app, "/rates/abc/download", CSV).status == 404


def test_json_list_has_rows_in_force_and_the_download_has_announcements(app: EmulatorApp) -> None:
    listed = json.loads(get(app, "/rates/current").body)["rates"]
    assert set(listed[0]) == {"prefix", "destination", "price"}
    csv_lines = get(app, "/rates/current/download", CSV).body.decode().splitlines()
    assert csv_lines[0].endswith(",Effective Date")
    assert len(csv_lines) - 1 > len(listed) == len({r["prefix"] for r in listed})


def test_search_by_prefix(app: EmulatorApp) -> None:
    found = json.loads(get(app, "/rates/current/search", query={"prefix": ["+44"]}).body)["rates"]
    assert found and all(r["prefix"].startswith("44") for r in found)
    assert [r["prefix"] for r in found] == sorted(r["prefix"] for r in found)
    assert get(app, "/rates/current/search", query={"prefix": ["4a"]}).status == 422


def test_sms_needs_a_username(app: EmulatorApp) -> None:
    assert get(app, "/rates/sms").status == 422
    ok = get(app, "/rates/sms", query={"username": ["acme"], "id": ["1"]})
    assert ok.content_type == "application/json"
    assert {"rate", "mcc", "mnc"} == set(json.loads(ok.body)[0])


def test_market_date_moves_the_filename_and_the_data(app: EmulatorApp) -> None:
    first = get(app, "/rates/current/download", CSV)
    app.set_market_date(app.market_date + timedelta(days=3))
    later = get(app, "/rates/current/download", CSV)
    name = "rates_current_2026-11-04.csv"
    disposition = f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"
    assert ("Content-Disposition", disposition) in later.headers
    assert first.body != later.body
    app.set_market_date(date(2026, 11, 1))


def test_deck_faults_change_the_body(app: EmulatorApp) -> None:
    full = get(app, "/rates/current/download", CSV).body.decode().splitlines()
    empty = get(app, "/rates/current/download", CSV, fault="empty").body.decode().splitlines()
    collapsed = get(app, "/rates/current/download", CSV, fault="collapse").body.decode()
    assert empty == full[:1]
    assert 1 < len(collapsed.splitlines()) - 1 <= len(full) // 20 + 1
    assert json.loads(get(app, "/rates/current", fault="empty").body) == {"rates": []}
    bad = get(app, "/rates/current/download", CSV, fault="bad-xls")
    assert bad.content_type == "application/vnd.ms-excel" and bad.body.startswith(b"\xd0\xcf")
