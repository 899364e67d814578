from __future__ import annotations

from decimal import Decimal

import pytest

from pipeline.emulator.protocol import (
    NotAcceptable,
    negotiate,
    parse_multipart,
    redact_headers,
    to_json,
    token_from_authorization,
)

DOWNLOAD = ("text/csv", "application/vnd.ms-excel")
JSON = ("application/json",)


@pytest.mark.parametrize(
    ("accept", "offered", "served"),
    [
        ("application/vnd.commpeak.com; version=1,text/csv", DOWNLOAD, "text/csv"),
        (
            "application/vnd.commpeak.com; version=1,application/vnd.ms-excel",
            DOWNLOAD,
            "application/vnd.ms-excel",
        ),
        ("application/vnd.commpeak.com; version=1, application/json", JSON, "application/json"),
        ("application/vnd.commpeak.com; version=1", JSON, "application/json"),
        (None, DOWNLOAD, "text/csv"),
        ("*/*", DOWNLOAD, "text/csv"),
        ("application/*", DOWNLOAD, "application/vnd.ms-excel"),
        ("text/html;q=0, application/json", JSON, "application/json"),
    ],
)
def test_negotiation(accept: str | None, offered: tuple[str, ...], served: str) -> None:
    assert negotiate(accept, offered) == served


@pytest.mark.parametrize(
    ("accept", "offered"),
    [
        ("application/vnd.commpeak.com; version=2,application/json", JSON),
        ("application/vnd.commpeak.com; version=1,application/json", DOWNLOAD),
        ("application/xml", JSON),
        ("text/csv", JSON),
    ],
)
def test_not_acceptable(accept: str, offered: tuple[str, ...]) -> None:
    with pytest.raises(NotAcceptable):
        negotiate(accept, offered)


def test_token_forms() -> None:
    assert token_from_authorization("Token abc") == "abc"
    assert token_from_authorization('Token token="abc"') == "abc"
    assert token_from_authorization("Bearer abc") == "abc"
    assert token_from_authorization("Basic YWJj") is None
    assert token_from_authorization("Token ") is None
    assert token_from_authorization(None) is None


def test_json_numbers_are_exact() -> None:
    doc = {"price": Decimal("0.15820"), "balance": Decimal("69.64622"), "n": 3, "s": "Ír"}
    assert to_json(doc) == '{"price":0.15820,"balance":69.64622,"n":3,"s":"Ír"}'.encode()
    assert to_json([Decimal("1E-7")]) == b"[0.0000001]"
    with pytest.raises(ValueError):
        to_json(Decimal("NaN"))


def test_secret_headers_are_redacted() -> None:
    headers = {"Authorization": "Token k", "x-recognition-token": "t", "Accept": "*/*"}
    assert redact_headers(headers) == {
        "Authorization": "[redacted]",
        "x-recognition-token": "[redacted]",
        "Accept": "*/*",
    }


def test_multipart_form() -> None:
    body = (
        b'--XX\r\nContent-Disposition: form-data; name="languages"\r\n\r\nen\r\n'
        b'--XX\r\nContent-Disposition: form-data; name="recording"; filename="a.wav"\r\n'
        b"Content-Type: audio/wav\r\n\r\nRIFF\x00\x01\r\n--XX--\r\n"
    )
    form = parse_multipart("multipart/form-data; boundary=XX", body)
    assert form.fields == {"languages": "en"}
    assert form.files == {"recording": ("a.wav", b"RIFF\x00\x01")}
    with pytest.raises(ValueError):
        parse_multipart("application/json", b"{}")
