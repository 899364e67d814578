"""GET /cdrs: the carrier's call export over real loopback HTTP, behind the API key."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
import requests

from pipeline.emulator.cdr import CARRIER_HEADER, render_carrier_cdrs
from pipeline.emulator.market import Market
from pipeline.emulator.server import EmulatorServer

CSV_ACCEPT = "application/vnd.commpeak.com; version=1,text/csv"
DAY_1, DAY_2, DAY_3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)


@pytest.fixture
def at_day_3(http_market: Market) -> Iterator[EmulatorServer]:
    with EmulatorServer(http_market, market_date=DAY_3) as server:
        yield server


def cdrs(server: EmulatorServer, query: str, **headers: str) -> requests.Response:
    sent = {"Authorization": "Token emulator-key", "Accept": CSV_ACCEPT, **headers}
    return requests.get(f"{server.url}/cdrs{query}", headers=sent, timeout=30)


def test_export_over_http_is_the_days_billed_calls(at_day_3: EmulatorServer) -> None:
    market = at_day_3.market
    response = cdrs(at_day_3, "?from=2026-11-01&to=2026-11-02")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="cdrs_2026-11-01_2026-11-02.csv"' in response.headers["Content-Disposition"]
    expected = render_carrier_cdrs([market.day(DAY_1).calls(), market.day(DAY_2).calls()])
    assert response.content == expected
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == CARRIER_HEADER and len(rows) > 50
    day_2_cost = sum(Decimal(r["Cost"]) for r in rows if r["Start Time (UTC)"] >= "2026-11-02")
    ledger = market.day(DAY_2).ledger()
    assert day_2_cost == ledger.cost > 0


def test_without_dates_it_exports_the_market_day(at_day_3: EmulatorServer) -> None:
    body = cdrs(at_day_3, "").text
    starts = {row["Start Time (UTC)"][:10] for row in csv.DictReader(io.StringIO(body))}
    assert starts == {DAY_3.isoformat()}


@pytest.mark.parametrize(
    "headers", [{"Authorization": "Token wrong"}, {"Authorization": ""}], ids=["wrong", "none"]
)
def test_export_needs_the_api_key(at_day_3: EmulatorServer, headers: dict[str, str]) -> None:
    response = cdrs(at_day_3, "?from=2026-11-01", **headers)
    assert response.status_code == 401
    assert response.content == b"HTTP Token: Access denied.\n"


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("?from=2026-11-04", "calls exist from 2026-11-01 to 2026-11-03"),
        ("?from=2026-10-31&to=2026-11-01", "calls exist from 2026-11-01 to 2026-11-03"),
        ("?from=2026-11-02&to=2026-11-01", "from 2026-11-02 is after to 2026-11-01"),
        ("?from=yesterday", "from and to must be dates YYYY-MM-DD"),
    ],
)
def test_bad_ranges_are_refused(at_day_3: EmulatorServer, query: str, error: str) -> None:
    response = cdrs(at_day_3, query)
    assert response.status_code == 422
    assert response.json() == {"status": 422, "error": error}


def test_at_most_a_month_per_request(at_day_3: EmulatorServer) -> None:
    at_day_3.set_market_date(DAY_1 + timedelta(days=40))
    response = cdrs(at_day_3, "?from=2026-11-01&to=2026-12-02")
    assert response.json() == {"status": 422, "error": "at most 31 days per request"}
    assert cdrs(at_day_3, "?from=2026-11-01&to=2026-12-01").status_code == 200


def test_only_csv_is_served(at_day_3: EmulatorServer) -> None:
    response = cdrs(at_day_3, "", Accept="application/json")
    assert response.status_code == 406


def test_faults_apply_to_the_export(at_day_3: EmulatorServer) -> None:
    at_day_3.set_faults("503:1/cdrs")
    assert cdrs(at_day_3, "").status_code == 503
    assert cdrs(at_day_3, "").status_code == 200
