"""Every error path of the client, driven by a real loopback server that misbehaves on cue."""

from __future__ import annotations

import email.utils
import socket
import time
from decimal import Decimal

import pytest

from pipeline.commpeak import (
    AuthenticationError,
    ConnectError,
    HTTPStatusError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    RequestTimeout,
    ResponseTooLargeError,
    ServerError,
    TruncatedBodyError,
    UnexpectedContentError,
)

CUSTOMER = {
    "customer": {
        "email": "a@example.com",
        "balance": 12.5,
        "sms_balance": 1,
        "temporary_credit": 0,
    }
}
RATES = {"rates": [{"prefix": "0044", "destination": "UK", "price": 0.123456789}]}
HTML_PAGE = b"\n  <!DOCTYPE html>\n<html><head><title>Log in</title></head><body>x</body></html>"


def dir_listing(path):
    return sorted(p.name for p in path.iterdir())


# ----------------------------------------------------------------- statuses


def test_401_is_not_retried(fault_server, make_client, sleeps):
    fault_server.script(
        fault_server.respond(401, "HTTP Token: Access denied.\n", {"Content-Type": "text/plain"})
    )

    with pytest.raises(AuthenticationError) as caught:
        make_client(fault_server.base_url).customer()

    assert str(caught.value) == "GET /customer: 401 Unauthorized: HTTP Token: Access denied."
    assert len(fault_server.requests) == 1 and sleeps == []


def test_404_names_the_endpoint_and_the_server_text(fault_server, make_client, tmp_path):
    fault_server.script(fault_server.respond(404, "unknown tech prefix"))
    dest = tmp_path / "deck.csv"

    with pytest.raises(NotFoundError) as caught:
        make_client(fault_server.base_url).download_rates("021009", dest)

    assert str(caught.value) == "GET /rates/021009/download: 404 Not Found: unknown tech prefix"
    assert (caught.value.status, caught.value.server_text) == (404, "unknown tech prefix")
    assert dir_listing(tmp_path) == []


def test_json_error_body_gives_its_message(fault_server, make_client):
    fault_server.script(fault_server.json({"error": "no such channel"}, status=422))

    with pytest.raises(HTTPStatusError) as caught:
        make_client(fault_server.base_url).sms_rates("acme", "1")

    assert type(caught.value) is HTTPStatusError
    assert str(caught.value) == "GET /rates/sms: 422 Unprocessable Entity: no such channel"


def test_429_honours_retry_after_seconds(fault_server, make_client, sleeps):
    fault_server.script(
        fault_server.respond(429, "slow down", {"Retry-After": "7"}),
        fault_server.json(CUSTOMER),
    )

    customer = make_client(fault_server.base_url).customer()

    assert customer.balance == Decimal("12.5")
    assert sleeps == [7.0]
    assert len(fault_server.requests) == 2


def test_429_retry_after_date_is_capped(fault_server, make_client, sleeps):
    in_an_hour = email.utils.formatdate(time.time() + 3600, usegmt=True)
    fault_server.script(
        fault_server.respond(429, "", {"Retry-After": in_an_hour}),
        fault_server.json(CUSTOMER),
    )

    make_client(fault_server.base_url, max_backoff_s=4).customer()

    assert sleeps == [4.0]


def test_429_forever_ends_in_rate_limited(fault_server, make_client, sleeps):
    fault_server.script(fault_server.respond(429, "", {"Retry-After": "2"}))

    with pytest.raises(RateLimitedError) as caught:
        make_client(fault_server.base_url, max_retries=2).rates("current")

    assert caught.value.retry_after == 2.0
    assert str(caught.value) == "GET /rates/current: 429 Too Many Requests"
    assert sleeps == [2.0, 2.0]


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_then_success_is_retried_with_jittered_backoff(
    fault_server, make_client, sleeps, status
):
    fault_server.script(
        fault_server.respond(status, "down"),
        fault_server.respond(status, "down"),
        fault_server.json(RATES),
    )

    rates = make_client(fault_server.base_url, backoff_s=0.5).rates("021001")

    assert rates[0].price == Decimal("0.123456789")
    assert rates[0].prefix == "0044"
    assert len(fault_server.requests) == 3
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.5 and 0 <= sleeps[1] <= 1.0  # full jitter under the exp. cap


def test_503_forever_is_a_server_error_after_max_retries(fault_server, make_client, sleeps):
    fault_server.script(
        fault_server.respond(
            503, b"<html><title>Service Unavailable</title></html>", {"Content-Type": "text/html"}
        )
    )

    with pytest.raises(ServerError) as caught:
        make_client(fault_server.base_url, max_retries=3, max_backoff_s=0.2).customer()

    assert str(caught.value) == (
        "GET /customer: 503 Service Unavailable: HTML page 'Service Unavailable'"
    )
    assert len(fault_server.requests) == 4
    assert len(sleeps) == 3 and all(0 <= s <= 0.2 for s in sleeps)


def test_warns_on_each_retry_with_attempt_and_delay(fault_server, make_client, caplog):
    fault_server.script(fault_server.respond(503, "down"), fault_server.json(CUSTOMER))

    with caplog.at_level("WARNING", logger="pipeline.commpeak"):
        make_client(fault_server.base_url, backoff_s=0).customer()

    assert [r.getMessage() for r in caplog.records] == [
        "GET /customer: 503 Service Unavailable: down (attempt 1 of 5); retrying in 0.00 s"
    ]


def test_post_is_never_retried(fault_server, make_client, sleeps):
    fault_server.script(fault_server.respond(503, "down"), fault_server.json({"task": {"id": 1}}))

    with pytest.raises(ServerError):
        make_client(fault_server.base_url).recognize(b"audio")

    assert len(fault_server.requests) == 1 and sleeps == []


def test_post_connection_reset_is_not_retried(fault_server, make_client, sleeps):
    fault_server.script(fault_server.reset())

    with pytest.raises(ConnectError):
        make_client(fault_server.base_url).recognize(b"audio")

    assert len(fault_server.requests) == 1 and sleeps == []


def test_redirect_is_not_followed(fault_server, make_client):
    fault_server.script(fault_server.respond(302, "", {"Location": "http://evil.example/x"}))

    with pytest.raises(HTTPStatusError) as caught:
        make_client(fault_server.base_url).speech_result(5)

    assert str(caught.value) == "GET /speech/result/5.json: 302 Found: redirects are not followed"
    assert len(fault_server.requests) == 1


# ----------------------------------------------------------------- transport


def test_connection_reset_then_success(fault_server, make_client, sleeps):
    fault_server.script(fault_server.reset(), fault_server.json(CUSTOMER))

    assert make_client(fault_server.base_url).customer().email == "a@example.com"
    assert len(sleeps) == 1


def test_connection_reset_forever(fault_server, make_client, sleeps):
    fault_server.script(fault_server.reset())

    with pytest.raises(ConnectError) as caught:
        make_client(fault_server.base_url, max_retries=1).customer()

    assert str(caught.value).startswith("GET /customer: connection failed (")
    assert len(fault_server.requests) == 2


def test_connection_refused(make_client):
    with socket.socket() as probe:  # a port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(ConnectError) as caught:
        make_client(f"http://127.0.0.1:{port}", max_retries=0).customer()

    assert str(caught.value) == "GET /customer: connection failed (Connection refused)"


def test_slow_answer_times_out(fault_server, make_client, sleeps):
    fault_server.script(fault_server.hang())

    with pytest.raises(RequestTimeout) as caught:
        make_client(fault_server.base_url, timeout_s=0.2, max_retries=1).rates("current")

    assert str(caught.value).startswith("GET /rates/current: timed out")
    assert len(fault_server.requests) == 2 and len(sleeps) == 1


def test_body_stalling_mid_download_times_out_and_leaves_no_file(
    fault_server, make_client, tmp_path
):
    fault_server.script(fault_server.hang(headers_first=True))

    with pytest.raises(RequestTimeout):
        make_client(fault_server.base_url, timeout_s=0.2, max_retries=0).download_rates(
            "current", tmp_path / "deck.csv"
        )

    assert dir_listing(tmp_path) == []


# ----------------------------------------------------------------- bodies


def test_truncated_download_is_refused_and_cleaned_up(fault_server, make_client, tmp_path):
    fault_server.script(
        fault_server.respond(200, "Destination,Prefix,Price\nUK,44,0.1\n", content_length=500)
    )
    dest = tmp_path / "deck.csv"
    dest.write_bytes(b"previous deck")

    with pytest.raises(TruncatedBodyError) as caught:
        make_client(fault_server.base_url, max_retries=1).download_rates("current", dest)

    assert str(caught.value).startswith("GET /rates/current/download: ")
    assert len(fault_server.requests) == 2  # a broken body is retried like a broken connection
    assert dir_listing(tmp_path) == ["deck.csv"]
    assert dest.read_bytes() == b"previous deck"  # the old file is untouched


def test_truncated_json_is_refused(fault_server, make_client):
    fault_server.script(fault_server.respond(200, '{"customer": {', content_length=300))

    with pytest.raises(TruncatedBodyError):
        make_client(fault_server.base_url, max_retries=0).customer()


def test_truncated_then_complete_download_succeeds(fault_server, make_client, tmp_path):
    body = "Destination,Prefix,Price\nUK,44,0.1\n"
    fault_server.script(
        fault_server.respond(200, body[:10], content_length=len(body)),
        fault_server.respond(200, body, {"Content-Type": "text/csv"}),
    )

    download = make_client(fault_server.base_url).download_rates("current", tmp_path / "d.csv")

    assert download.size_bytes == len(body)
    assert dir_listing(tmp_path) == ["d.csv"]


@pytest.mark.parametrize("content_type", ["text/csv", "text/html; charset=utf-8", None])
def test_html_page_with_200_is_unexpected_content(
    fault_server, make_client, tmp_path, content_type
):
    headers = {"Content-Type": content_type} if content_type else {}
    fault_server.script(fault_server.respond(200, HTML_PAGE, headers))

    with pytest.raises(UnexpectedContentError) as caught:
        make_client(fault_server.base_url).download_rates("current", tmp_path / "deck.csv")

    assert str(caught.value).startswith("GET /rates/current/download: ")
    assert len(fault_server.requests) == 1  # not retried
    assert dir_listing(tmp_path) == []


def test_large_html_page_is_refused_early(fault_server, make_client, tmp_path):
    fault_server.script(fault_server.respond(200, HTML_PAGE + b" " * 100_000))

    with pytest.raises(UnexpectedContentError):
        make_client(fault_server.base_url).download_rates(
            "current", tmp_path / "deck.xls", fmt="xls"
        )

    assert dir_listing(tmp_path) == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (HTML_PAGE, "application/json"),
        (HTML_PAGE, None),
        (b"OK", "application/json"),
        (b'{"customer": {"email": "a@b", "balance": NaN}}', "application/json"),
        (b'{"customer": {"email": "a@b", "balance": "lots"}}', "application/json"),
        (b'{"rates": []}', "application/json"),
        (b"", "application/json"),
    ],
)
def test_json_endpoint_refuses_non_json_or_wrong_shape(
    fault_server, make_client, body, content_type
):
    headers = {"Content-Type": content_type} if content_type else {}
    fault_server.script(fault_server.respond(200, body, headers))

    with pytest.raises(UnexpectedContentError) as caught:
        make_client(fault_server.base_url).customer()

    assert str(caught.value).startswith("GET /customer: ")
    assert len(fault_server.requests) == 1


def test_declared_huge_body_is_refused_before_reading(fault_server, make_client, tmp_path):
    fault_server.script(fault_server.respond(200, b"x" * 100, content_length=10**12))

    with pytest.raises(ResponseTooLargeError) as caught:
        make_client(fault_server.base_url, max_download_bytes=1024).download_rates(
            "current", tmp_path / "deck.csv"
        )

    assert str(caught.value) == (
        "GET /rates/current/download: body of 1000000000000 bytes exceeds the limit of 1024 bytes"
    )
    assert dir_listing(tmp_path) == []


def test_endless_body_is_cut_at_the_limit(fault_server, make_client, tmp_path):
    fault_server.script(fault_server.endless())

    with pytest.raises(ResponseTooLargeError) as caught:
        make_client(fault_server.base_url, max_download_bytes=200_000).download_rates(
            "current", tmp_path / "deck.csv"
        )

    assert str(caught.value) == (
        "GET /rates/current/download: body exceeds the limit of 200000 bytes"
    )
    assert len(fault_server.requests) == 1  # not retried
    assert dir_listing(tmp_path) == []


def test_endless_json_is_cut_at_the_limit(fault_server, make_client):
    fault_server.script(fault_server.endless("application/json"))

    with pytest.raises(ResponseTooLargeError):
        make_client(fault_server.base_url, max_download_bytes=100_000).sms_rates("a", "1")


# ----------------------------------------------------------------- refused before sending


@pytest.mark.parametrize(
    "tech_prefix",
    ["../customer", "021001/../x", "", "sms", "current/", "12a", "%2e%2e", " 021001", None],
)
def test_bad_tech_prefix_makes_no_request(fault_server, make_client, tmp_path, tech_prefix):
    fault_server.script(fault_server.json(RATES))
    client = make_client(fault_server.base_url)

    calls = [
        lambda: client.rates(tech_prefix),
        lambda: client.search_rates(tech_prefix, "44"),
        lambda: client.download_rates(tech_prefix, tmp_path / "d.csv"),
    ]
    for call in calls:
        with pytest.raises(InvalidRequestError) as caught:
            call()
        assert caught.value.exit_code == 2
        assert "bad tech prefix" in str(caught.value)

    assert fault_server.requests == []
    assert dir_listing(tmp_path) == []


def test_other_bad_arguments_make_no_request(fault_server, make_client, tmp_path):
    fault_server.script(fault_server.json(RATES))
    client = make_client(fault_server.base_url)

    calls = [
        lambda: client.search_rates("current", "+44"),
        lambda: client.download_rates("current", tmp_path / "d.pdf", fmt="pdf"),
        lambda: client.sms_rates("", "1"),
        lambda: client.speech_result(-1),
        lambda: client.speech_result("1/../../customer"),
        lambda: client.recognize(b"x", task_type="summarise"),
        lambda: client.recognize(b"x", parse_channel=3),
        lambda: client.recognize(b"x", languages="english"),
        lambda: client.recognize(b"x", webhook_url="javascript:alert(1)"),
        lambda: client.recognize(tmp_path / "missing.wav"),
    ]
    for call in calls:
        with pytest.raises(InvalidRequestError):
            call()

    assert fault_server.requests == []


def test_missing_credentials_make_no_request(fault_server, make_client):
    fault_server.script(fault_server.json(CUSTOMER))
    client = make_client(fault_server.base_url, api_key=None, recognition_token=None)

    with pytest.raises(InvalidRequestError, match="set COMMPEAK_API_KEY"):
        client.customer()
    with pytest.raises(InvalidRequestError, match="set COMMPEAK_RECOGNITION_TOKEN"):
        client.speech_result(1)

    assert fault_server.requests == []


@pytest.mark.parametrize(
    ("call", "path", "body"),
    [
        ("sms", "/rates/sms", b'[{"rate": 0.05, "rate": 9.99, "mcc": 1, "mnc": 2}]'),
        ("customer", "/customer", b'{"customer": {"email": "a@b", "balance": 1, "balance": 2}}'),
    ],
)
def test_duplicate_json_key_is_refused_naming_the_key_and_endpoint(
    fault_server, make_client, call, path, body
):
    """A repeated key would silently keep the last value (9.99 instead of 0.05)."""
    fault_server.script(fault_server.respond(200, body, {"Content-Type": "application/json"}))
    client = make_client(fault_server.base_url)

    with pytest.raises(UnexpectedContentError) as caught:
        client.sms_rates_raw("acme", "1") if call == "sms" else client.customer_raw()

    key = "rate" if call == "sms" else "balance"
    assert str(caught.value) == f"GET {path}: duplicate key {key!r} in a JSON object"


@pytest.mark.parametrize(
    "row",
    [
        b'{"rate": null, "mcc": 262, "mnc": 1}',
        b'{"rate": 0.05, "mcc": 310, "mnc": "100 - 190"}',
        b'{"rate": NaN, "mcc": 262, "mnc": 1}',
        b'{"rate": 0.05, "mcc": 310, "mnc": "010"}',  # text: read as 10, its zero lost
    ],
)
def test_sms_rates_raw_lands_a_list_with_a_bad_row_for_ingest_to_judge(
    fault_server, make_client, row
):
    """One bad row is ingest's reject, not the whole channel's failure; the typed API, which
    has no place for a bad row, still refuses it naming the row."""
    body = b'[{"rate": 0.05, "mcc": 262, "mnc": 2}, ' + row + b"]"
    headers = {"Content-Type": "application/json"}
    fault_server.script(*[fault_server.respond(200, body, headers)] * 2)
    client = make_client(fault_server.base_url)

    assert client.sms_rates_raw("acme", "1") == body
    with pytest.raises(UnexpectedContentError, match=r"^GET /rates/sms: unexpected JSON: \[1\]\."):
        client.sms_rates("acme", "1")
