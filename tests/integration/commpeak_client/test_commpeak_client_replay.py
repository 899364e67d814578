"""The client against the Postman collection's own examples, served over loopback HTTP."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import pytest

from pipeline.commpeak import AuthenticationError, Customer, Rate, SmsRate

JSON_ACCEPT = "application/vnd.commpeak.com; version=1,application/json"


def only_request(server):
    assert len(server.requests) == 1, [r.path for r in server.requests]
    return server.requests[0]


def assert_api_headers(request, api_key, accept=JSON_ACCEPT):
    assert request.header("Authorization") == f"Token {api_key}"
    assert request.header("Accept") == accept
    assert request.header("X-Recognition-Token") is None


def test_every_collection_endpoint_has_a_client_method(replay):
    served = {(r.method, r.template) for r in replay.routes}
    assert served == {
        ("GET", "/customer"),
        ("GET", "/rates/:tech_prefix"),
        ("GET", "/rates/:tech_prefix/search"),
        ("GET", "/rates/:tech_prefix/download"),
        ("GET", "/rates/sms"),
        ("POST", "/speech/recognize.json"),
        ("GET", "/speech/result/:task_id.json"),
    }


def test_customer(replay_server, make_client, api_key):
    customer = make_client(replay_server.base_url).customer()

    assert customer == Customer(
        email="customer@email.com",
        balance=Decimal("69.64622"),
        sms_balance=Decimal("99.63218"),
        temporary_credit=Decimal("0"),
    )
    assert str(customer.balance) == "69.64622"  # exact, not a float's nearest
    request = only_request(replay_server)
    assert (request.method, request.path, request.query) == ("GET", "/customer", {})
    assert_api_headers(request, api_key)


def test_customer_raw_is_the_served_bytes(replay_server, replay, make_client):
    raw = make_client(replay_server.base_url).customer_raw()

    route = replay.route_for("GET", "/customer")
    assert raw == replay.example(route, "Customer - Success").body


def test_rates_for_current(replay_server, make_client, api_key):
    rates = make_client(replay_server.base_url).rates("current")

    assert rates == [
        Rate("353", "Ireland - Fixed", Decimal("0.0185")),
        Rate("35389", "Ireland - Mobile", Decimal("0.1617")),
    ]
    request = only_request(replay_server)
    assert (request.method, request.path, request.query) == ("GET", "/rates/current", {})
    assert_api_headers(request, api_key)


def test_search_rates(replay_server, make_client, api_key):
    rates = make_client(replay_server.base_url).search_rates("current", "35389")

    assert [r.prefix for r in rates] == ["35389", "3538994", "3538995"]
    assert rates[1] == Rate("3538994", "Ireland - Mobile - Lycatel", Decimal("0.1582"))
    request = only_request(replay_server)
    assert request.path == "/rates/current/search"
    assert request.query == {"prefix": ["35389"]}
    assert_api_headers(request, api_key)


def test_download_csv(replay_server, make_client, api_key, tmp_path):
    dest = tmp_path / "decks" / "current.csv"
    download = make_client(replay_server.base_url).download_rates("current", dest)

    expected = b"Destination,Prefix,Price,Billing Increments\nAfghanistan - Fixed,93,0.75,1/1"
    assert dest.read_bytes() == expected
    assert download.path == dest
    assert download.size_bytes == len(expected) == 75
    assert download.sha256 == hashlib.sha256(expected).hexdigest()
    assert download.content_type == "text/csv"
    assert download.filename == "filename.csv"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["current.csv"]  # no temp file
    request = only_request(replay_server)
    assert request.path == "/rates/current/download"
    assert_api_headers(request, api_key, "application/vnd.commpeak.com; version=1,text/csv")


def test_download_xls_asks_for_excel(replay_server, make_client, api_key, tmp_path):
    dest = tmp_path / "current.xls"
    download = make_client(replay_server.base_url).download_rates("current", dest, fmt="xls")

    assert dest.read_bytes() == b"This request returns a file in .xls format."
    assert download.content_type == "application/vnd.ms-excel"
    assert download.filename == "filename.xls"
    request = only_request(replay_server)
    accept = "application/vnd.commpeak.com; version=1,application/vnd.ms-excel"
    assert_api_headers(request, api_key, accept)


def test_download_replaces_an_existing_file(replay_server, make_client, tmp_path):
    dest = tmp_path / "current.csv"
    dest.write_bytes(b"old deck")

    make_client(replay_server.base_url).download_rates("current", dest)

    assert dest.read_bytes().startswith(b"Destination,Prefix")


def test_sms_rates(replay_server, make_client, api_key):
    rates = make_client(replay_server.base_url).sms_rates("test", "1")

    assert rates == [
        SmsRate(mcc=10, mnc=210, rate=Decimal("0.05")),
        SmsRate(mcc=9, mnc=210, rate=Decimal("0.05")),
    ]
    request = only_request(replay_server)
    assert (request.method, request.path) == ("GET", "/rates/sms")
    assert request.query == {"username": ["test"], "id": ["1"]}
    assert_api_headers(request, api_key)


def test_sms_query_values_are_encoded(replay_server, make_client):
    make_client(replay_server.base_url).sms_rates_raw("a b&id=9/..", "1#x")

    request = only_request(replay_server)
    assert request.path == "/rates/sms"
    assert request.query == {"username": ["a b&id=9/.."], "id": ["1#x"]}


def test_sms_rates_raw_is_the_served_bytes(replay_server, replay, make_client):
    raw = make_client(replay_server.base_url).sms_rates_raw("test", "1")

    route = replay.route_for("GET", "/rates/sms")
    assert raw == route.examples[0].body


def test_recognize_sends_the_documented_form(replay_server, make_client, recognition_token):
    task_id = make_client(replay_server.base_url).recognize(
        b"RIFF....WAVEfmt ",
        languages="en",
        remote_identifier="my_id_1",
        parse_channel=0,
        webhook_url="https://example.com/webhook",
        task_type="transcribe_and_translate",
    )

    assert task_id == 32421
    request = only_request(replay_server)
    assert (request.method, request.path) == ("POST", "/speech/recognize.json")
    assert request.header("X-Recognition-Token") == recognition_token
    assert request.header("Authorization") is None  # the API key is not sent where not needed
    assert request.header("Content-Type").startswith("multipart/form-data; boundary=")
    form = request.form()
    assert set(form) == {
        "languages",
        "recording",
        "remote_identifier",
        "parse_channel",
        "webhook_url",
        "task_type",
    }
    assert form["recording"] == ("recording.wav", b"RIFF....WAVEfmt ")
    assert {k: v[1] for k, v in form.items() if k != "recording"} == {
        "languages": b"en",
        "remote_identifier": b"my_id_1",
        "parse_channel": b"0",
        "webhook_url": b"https://example.com/webhook",
        "task_type": b"transcribe_and_translate",
    }


def test_recognize_uploads_a_file_by_its_name(replay_server, make_client, tmp_path):
    recording = tmp_path / "call-42.mp3"
    recording.write_bytes(b"ID3 fake audio")

    make_client(replay_server.base_url).recognize(recording)

    form = only_request(replay_server).form()
    assert form["recording"] == ("call-42.mp3", b"ID3 fake audio")
    assert form["task_type"] == (None, b"transcribe")
    assert form["parse_channel"] == (None, b"0")
    assert "webhook_url" not in form and "remote_identifier" not in form


def test_speech_result(replay_server, replay, make_client, recognition_token):
    result = make_client(replay_server.base_url).speech_result(32421)

    route = replay.route_for("GET", "/speech/result/1.json")
    assert result == json.loads(route.examples[0].body, parse_float=Decimal)
    assert result["result"]["translation_plain_body"] == "hello"
    request = only_request(replay_server)
    assert (request.method, request.path) == ("GET", "/speech/result/32421.json")
    assert request.header("X-Recognition-Token") == recognition_token
    assert request.header("Authorization") is None


def test_wrong_key_is_an_authentication_error_with_the_server_text(replay_server, make_client):
    client = make_client(replay_server.base_url, api_key="not-the-key")

    with pytest.raises(AuthenticationError) as caught:
        client.customer()

    assert caught.value.status == 401
    assert caught.value.server_text == "HTTP Token: Access denied."
    assert str(caught.value) == "GET /customer: 401 Unauthorized: HTTP Token: Access denied."
    assert len(replay_server.requests) == 1  # 401 is not retried
