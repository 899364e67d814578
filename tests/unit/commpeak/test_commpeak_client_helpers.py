"""Client pieces that need no server: headers, validation, Retry-After, file names, HTML sniff."""

from __future__ import annotations

import socket

import pytest
from pydantic import SecretStr

from pipeline.commpeak import (
    CommPeakClient,
    InvalidRequestError,
    filename_from_content_disposition,
    looks_like_html,
    parse_retry_after,
    sanitize_filename,
)
from pipeline.settings import load_settings


@pytest.fixture
def dead_url():
    """A loopback URL nobody listens on: any request that got out would be a ConnectError."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.mark.parametrize(
    "base_url",
    ["http://api.commpeak.com", "ftp://127.0.0.1", "https://user:pw@api.commpeak.com", "nonsense"],
)
def test_bad_base_urls_are_refused(base_url):
    with pytest.raises(InvalidRequestError) as caught:
        CommPeakClient(base_url, "key")
    assert "pw" not in str(caught.value)


@pytest.mark.parametrize(
    "base_url", ["https://api.commpeak.com", "http://127.0.0.1:8080", "http://localhost:1/"]
)
def test_good_base_urls(base_url):
    assert CommPeakClient(base_url, "k").base_url == base_url.rstrip("/")


def test_repr_hides_secrets():
    client = CommPeakClient(
        "https://api.commpeak.com", SecretStr("s3cr3t"), recognition_token="t0k"
    )
    assert repr(client) == (
        "CommPeakClient(base_url='https://api.commpeak.com', api_key=set, recognition_token=set)"
    )
    assert repr(CommPeakClient("https://api.commpeak.com", "  ")).endswith(
        "api_key=missing, recognition_token=missing)"
    )


def test_from_settings_takes_api_section_and_secrets():
    settings = load_settings(env={"COMMPEAK_API_KEY": "k"}).with_overrides(
        api={"timeout_s": 7, "max_retries": 1, "max_download_bytes": 1000}
    )
    client = CommPeakClient.from_settings(settings)
    assert client.base_url == "https://api.commpeak.com"
    assert (client.timeout_s, client.max_retries, client.max_download_bytes) == (7.0, 1, 1000)
    assert repr(client).endswith("api_key=set, recognition_token=missing)")


@pytest.mark.parametrize("tech_prefix", ["../customer", "021001/../x", "current?x=1", "", "sms"])
def test_bad_tech_prefix_is_refused_before_connecting(dead_url, tech_prefix):
    client = CommPeakClient(dead_url, "k", max_retries=0)
    with pytest.raises(InvalidRequestError, match=r"^GET /rates/\{tech_prefix\}: bad tech prefix"):
        client.rates(tech_prefix)


def test_bad_client_options():
    with pytest.raises(InvalidRequestError):
        CommPeakClient("https://api.commpeak.com", "k", timeout_s=0)
    with pytest.raises(InvalidRequestError):
        CommPeakClient("https://api.commpeak.com", "k", max_download_bytes=0)


def test_retry_after_seconds_and_dates():
    now = 1_700_000_000.0  # 2023-11-14T22:13:20Z
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after("Tue, 14 Nov 2023 22:14:20 GMT", now=lambda: now) == 60.0
    assert parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now=lambda: now) == 0.0
    assert parse_retry_after("0.01") == 0.01  # the emulator's fractional form
    for garbage in (None, "", "soon", "-5"):
        assert parse_retry_after(garbage) is None


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("attachment; filename=\"filename.csv\"; filename*=UTF-8''filename.csv", "filename.csv"),
        ('attachment; filename="deck 2026.xls"', "deck 2026.xls"),
        ("attachment; filename=plain.csv", "plain.csv"),
        ("attachment; filename*=UTF-8''r%C3%A4tes.csv", "r_tes.csv"),
        ('attachment; filename="../../etc/passwd"', "passwd"),
        ('attachment; filename="..\\\\..\\\\win.ini"', "win.ini"),
        ('attachment; filename=".bashrc"', "bashrc"),
        ('attachment; filename="a\\"b.csv"', "a_b.csv"),
        ('attachment; filename=".."', None),
        ("attachment", None),
        (None, None),
    ],
)
def test_filename_from_content_disposition(header, name):
    assert filename_from_content_disposition(header) == name


def test_sanitize_filename_limits_length():
    assert sanitize_filename("x" * 300 + ".csv") == "x" * 255


@pytest.mark.parametrize(
    ("head", "html"),
    [
        (b"<!DOCTYPE html><html>", True),
        (b"\xef\xbb\xbf\r\n  <HTML lang=en>", True),
        (b"  <!doctype HTML>", True),
        (b"Destination,Prefix,Price", False),
        (b'{"rates": []}', False),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", False),  # an XLS file
        (b"", False),
    ],
)
def test_looks_like_html(head, html):
    assert looks_like_html(head) is html


def test_secret_with_control_characters_is_refused_without_quoting_it():
    with pytest.raises(InvalidRequestError) as caught:
        CommPeakClient("https://api.commpeak.com", "abc\r\nX-Evil: 1")
    assert str(caught.value) == "client: the API key contains non-printable characters"


class _Response:
    def __init__(self, **headers: str):
        self.headers = headers


@pytest.mark.parametrize(
    ("length", "expected"), [("12", 12), (" 7 ", 7), ("²", None), ("٣", None), ("-1", None)]
)
def test_a_declared_length_is_ascii_digits(length, expected):
    # "²" is a digit to str.isdigit that int() refuses: it raised ValueError out of the client
    from pipeline.commpeak._wire import declared_length

    assert declared_length(_Response(**{"Content-Length": length})) == expected
