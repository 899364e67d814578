"""Every error class of the client, provoked by the emulator's own faults (``set_faults``).

Retries sleep through ``sleeps.append``: the delays the client asked for are asserted exactly
(Retry-After as served, or the seeded full-jitter backoff).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.commpeak import (
    AuthenticationError,
    CommPeakClient,
    ConnectError,
    NotFoundError,
    RateLimitedError,
    RequestTimeout,
    ServerError,
    TransportError,
    TruncatedBodyError,
    UnexpectedContentError,
)
from pipeline.emulator import EmulatorServer, MarketDay, render_deck

ACCESS_DENIED = "HTTP Token: Access denied."
UNKNOWN_TECH_PREFIX = "021009"

JSON_CALLS: dict[str, Callable[[CommPeakClient], object]] = {
    "customer": lambda c: c.customer(),
    "rates": lambda c: c.rates("current"),
    "search": lambda c: c.search_rates("current", "353"),
    "sms": lambda c: c.sms_rates("acme", "7"),
}


def _statuses(emulator: EmulatorServer) -> list[int | None]:
    return [r.status for r in emulator.request_log]


# --- 401 ---------------------------------------------------------------------------------


def test_wrong_api_key_is_an_authentication_error_with_the_server_text(
    emulator: EmulatorServer, make_client, sleeps: list[float]
) -> None:
    client = make_client(api_key="not-the-key-0123")
    with pytest.raises(AuthenticationError) as caught:
        client.customer()
    assert caught.value.status == 401 and caught.value.server_text == ACCESS_DENIED
    assert str(caught.value) == f"GET /customer: 401 Unauthorized: {ACCESS_DENIED}"
    assert "not-the-key-0123" not in repr(caught.value) + str(caught.value)
    assert sleeps == [] and _statuses(emulator) == [401]  # never retried


@pytest.mark.parametrize("name", sorted(JSON_CALLS))
def test_fault_401_on_every_json_endpoint(
    emulator: EmulatorServer, client: CommPeakClient, sleeps: list[float], name: str
) -> None:
    emulator.set_faults("401")
    with pytest.raises(AuthenticationError) as caught:
        JSON_CALLS[name](client)
    assert caught.value.server_text == ACCESS_DENIED and sleeps == []


def test_wrong_recognition_token_is_an_authentication_error(make_client, tmp_path: Path) -> None:
    client = make_client(recognition_token="wrong-token-42")
    with pytest.raises(AuthenticationError) as caught:
        client.recognize(b"\x00" * 10)
    assert caught.value.server_text == ACCESS_DENIED
    with pytest.raises(AuthenticationError):
        client.speech_result(32421)


def test_fault_401_on_a_download_leaves_no_file(
    emulator: EmulatorServer, client: CommPeakClient, tmp_path: Path
) -> None:
    emulator.set_faults("401:1")
    with pytest.raises(AuthenticationError):
        client.download_rates("current", tmp_path / "d.csv")
    assert list(tmp_path.iterdir()) == []


# --- 404 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["rates", "search", "download"])
def test_unknown_tech_prefix_is_not_found(
    emulator: EmulatorServer,
    client: CommPeakClient,
    sleeps: list[float],
    tmp_path: Path,
    endpoint: str,
) -> None:
    calls = {
        "rates": lambda: client.rates(UNKNOWN_TECH_PREFIX),
        "search": lambda: client.search_rates(UNKNOWN_TECH_PREFIX, "353"),
        "download": lambda: client.download_rates(UNKNOWN_TECH_PREFIX, tmp_path / "d.csv"),
    }
    with pytest.raises(NotFoundError) as caught:
        calls[endpoint]()
    assert caught.value.status == 404 and f"/rates/{UNKNOWN_TECH_PREFIX}" in str(caught.value)
    assert sleeps == [] and _statuses(emulator) == [404]
    assert list(tmp_path.iterdir()) == []


def test_fault_404_and_an_unknown_speech_task(
    emulator: EmulatorServer, client: CommPeakClient
) -> None:
    emulator.set_faults("404:1")
    with pytest.raises(NotFoundError):
        client.rates("current")
    assert len(client.rates("current")) > 0
    with pytest.raises(NotFoundError):
        client.speech_result(999)


# --- 429 ---------------------------------------------------------------------------------


def test_429_with_fractional_retry_after_is_retried_then_succeeds(
    emulator: EmulatorServer, client: CommPeakClient, sleeps: list[float], market_day: MarketDay
) -> None:
    emulator.set_faults("429:2@0.01")
    assert client.customer().balance == market_day.customer()["balance"]
    assert sleeps == [0.01, 0.01]  # the served Retry-After, not a jittered guess
    assert _statuses(emulator) == [429, 429, 200]


def test_429_default_retry_after_then_rate_limited_after_max_retries(
    emulator: EmulatorServer, make_client, sleeps: list[float]
) -> None:
    emulator.set_faults("429")
    with pytest.raises(RateLimitedError) as caught:
        make_client(max_retries=2).rates("current")
    assert caught.value.retry_after == 1.0 and caught.value.status == 429
    assert sleeps == [1.0, 1.0]
    assert _statuses(emulator) == [429, 429, 429]


def test_429_retry_after_is_capped_by_max_backoff(
    emulator: EmulatorServer, make_client, sleeps: list[float]
) -> None:
    emulator.set_faults("429:1@45")
    make_client(max_backoff_s=5).customer()
    assert sleeps == [5.0]


# --- 5xx ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["500", "503"])
def test_5xx_is_retried_with_jittered_backoff_then_succeeds(
    emulator: EmulatorServer,
    client: CommPeakClient,
    sleeps: list[float],
    jitter,
    status: str,
) -> None:
    emulator.set_faults(f"{status}:2")
    assert len(client.search_rates("current", "353")) > 0
    assert sleeps == jitter(2)
    assert _statuses(emulator) == [int(status), int(status), 200]


@pytest.mark.parametrize("status", ["500", "503"])
def test_5xx_forever_is_a_server_error_after_max_retries(
    emulator: EmulatorServer, client: CommPeakClient, sleeps: list[float], jitter, status: str
) -> None:
    emulator.set_faults(status)
    with pytest.raises(ServerError) as caught:
        client.customer()
    assert caught.value.status == int(status)
    assert sleeps == jitter(3)
    assert _statuses(emulator) == [int(status)] * 4


def test_503_html_page_is_summarised_in_one_line(emulator: EmulatorServer, make_client) -> None:
    emulator.set_faults("503")
    with pytest.raises(ServerError) as caught:
        make_client(max_retries=0).customer()
    assert caught.value.server_text == "HTML page '503 Service Temporarily Unavailable'"
    assert "\n" not in str(caught.value)


def test_the_post_is_never_retried(
    emulator: EmulatorServer, client: CommPeakClient, sleeps: list[float]
) -> None:
    emulator.set_faults("503:1")
    with pytest.raises(ServerError):
        client.recognize(b"\x00" * 10)
    assert sleeps == [] and _statuses(emulator) == [503]
    assert client.recognize(b"\x00" * 10) > 0


# --- slow --------------------------------------------------------------------------------


def test_an_answer_slower_than_the_timeout_is_a_request_timeout(
    emulator: EmulatorServer, make_client, sleeps: list[float]
) -> None:
    emulator.set_faults("slow:3")
    with pytest.raises(RequestTimeout) as caught:
        make_client(timeout_s=0.2, max_retries=0).customer()
    assert "timed out" in str(caught.value) and sleeps == []


def test_a_timeout_is_retried_then_succeeds(
    emulator: EmulatorServer, make_client, sleeps: list[float], jitter
) -> None:
    emulator.set_faults("slow:3x1")
    assert make_client(timeout_s=0.2, max_retries=1).customer().email
    assert sleeps == jitter(1)


def test_a_slow_answer_within_the_timeout_succeeds(
    emulator: EmulatorServer, make_client, sleeps: list[float]
) -> None:
    emulator.set_faults("slow:0.05")
    assert len(make_client(timeout_s=10).rates("current")) > 0
    assert sleeps == []
    assert emulator.request_log[-1].fault == "slow"


# --- reset -------------------------------------------------------------------------------


def test_connection_reset_is_retried_then_succeeds(
    emulator: EmulatorServer, client: CommPeakClient, sleeps: list[float], jitter
) -> None:
    emulator.set_faults("reset:1")
    assert len(client.sms_rates("acme", "7")) > 0
    assert sleeps == jitter(1)
    assert _statuses(emulator) == [None, 200]


def test_connection_reset_forever_is_a_connect_error(
    emulator: EmulatorServer, make_client, sleeps: list[float], jitter
) -> None:
    emulator.set_faults("reset")
    with pytest.raises(ConnectError) as caught:
        make_client(max_retries=2).customer()
    assert isinstance(caught.value, TransportError)
    assert "/customer" in str(caught.value) and "127.0.0.1" not in str(caught.value)
    assert sleeps == jitter(2) and _statuses(emulator) == [None, None, None]


# --- truncated body ----------------------------------------------------------------------


def test_truncated_download_is_refused_and_leaves_no_file(
    emulator: EmulatorServer, make_client, sleeps: list[float], jitter, tmp_path: Path
) -> None:
    emulator.set_faults("truncate")
    with pytest.raises(TruncatedBodyError):
        make_client(max_retries=1).download_rates("current", tmp_path / "d.xls", fmt="xls")
    assert list(tmp_path.iterdir()) == []  # neither the file nor its .part
    assert sleeps == jitter(1)


def test_truncated_download_then_complete_one(
    emulator: EmulatorServer,
    client: CommPeakClient,
    market_day: MarketDay,
    tmp_path: Path,
) -> None:
    emulator.set_faults("truncate:1")
    download = client.download_rates("current", tmp_path / "d.csv")
    assert download.path.read_bytes() == render_deck(market_day.voice_deck("current"), "csv")
    assert [p.name for p in tmp_path.iterdir()] == ["d.csv"]


def test_truncated_json_is_refused(emulator: EmulatorServer, make_client) -> None:
    emulator.set_faults("truncate")
    with pytest.raises(TruncatedBodyError):
        make_client(max_retries=0).rates("current")


# --- HTML with 200 -----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(JSON_CALLS))
def test_html_page_with_200_is_unexpected_content(
    emulator: EmulatorServer, client: CommPeakClient, sleeps: list[float], name: str
) -> None:
    emulator.set_faults("html")
    with pytest.raises(UnexpectedContentError) as caught:
        JSON_CALLS[name](client)
    assert "HTML" in str(caught.value)
    assert sleeps == [] and _statuses(emulator) == [200]  # not retried: it will not improve


@pytest.mark.parametrize("fmt", ["csv", "xls"])
def test_html_page_instead_of_a_deck_leaves_no_file(
    emulator: EmulatorServer, client: CommPeakClient, tmp_path: Path, fmt: str
) -> None:
    emulator.set_faults("html")
    with pytest.raises(UnexpectedContentError) as caught:
        client.download_rates("current", tmp_path / f"d.{fmt}", fmt=fmt)
    assert str(caught.value) == "GET /rates/current/download: expected a rate deck, got text/html"
    assert list(tmp_path.iterdir()) == []
