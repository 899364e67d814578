"""The API key and recognition token never leak: not in errors, reprs, logs or tracebacks."""

from __future__ import annotations

import logging
import traceback

import pytest

from pipeline.commpeak import CommPeakClient, errors
from pipeline.settings import load_settings


def scenarios(server, key, token, tmp_path):
    """(expected error class, server action, call) for every error class the client raises."""
    echo = f"denied for Token {key} / {token}"
    return [
        (errors.AuthenticationError, server.respond(401, echo), lambda c: c.customer()),
        (errors.AuthenticationError, server.respond(401, echo), lambda c: c.speech_result(1)),
        (errors.NotFoundError, server.respond(404, echo), lambda c: c.rates("021009")),
        (errors.RateLimitedError, server.respond(429, echo), lambda c: c.rates("current")),
        (errors.ServerError, server.respond(503, echo), lambda c: c.sms_rates("u", "1")),
        (errors.HTTPStatusError, server.respond(400, echo), lambda c: c.recognize(b"a")),
        (errors.ConnectError, server.reset(), lambda c: c.customer()),
        (errors.RequestTimeout, server.hang(), lambda c: c.customer()),
        (
            errors.TruncatedBodyError,
            server.respond(200, "Destination", content_length=99),
            lambda c: c.download_rates("current", tmp_path / "d.csv"),
        ),
        (
            errors.UnexpectedContentError,
            server.respond(200, f"<html>{echo}</html>"),
            lambda c: c.customer(),
        ),
        (
            errors.ResponseTooLargeError,
            server.respond(200, "x" * 300),
            lambda c: c.download_rates("current", tmp_path / "d.csv"),
        ),
        (errors.InvalidRequestError, server.respond(200), lambda c: c.rates(f"../{key}")),
    ]


def test_no_secret_in_any_error_or_log(fault_server, api_key, recognition_token, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, urllib3's included
    cases = scenarios(fault_server, api_key, recognition_token, tmp_path)
    seen = set()

    for expected, action, call in cases:
        fault_server.script(action)
        client = CommPeakClient(
            fault_server.base_url,
            api_key,
            recognition_token=recognition_token,
            timeout_s=0.3,
            max_retries=1,
            max_download_bytes=200,
            sleep=lambda s: None,
        )
        with pytest.raises(errors.CommPeakError) as caught:
            call(client)
        client.close()

        exc = caught.value
        assert type(exc) is expected, str(exc)
        seen.add(type(exc))
        texts = [
            str(exc),
            repr(exc),
            repr(vars(exc)),
            "".join(traceback.format_exception(exc)),
            repr(client),
        ]
        for text in texts:
            assert api_key not in text and recognition_token not in text, text
        assert "\n" not in str(exc)
        assert str(exc).split(" ")[0] in {"GET", "POST"}
        assert "127.0.0.1" not in str(exc)  # the path, not the URL

    assert seen == {cls for cls, _, _ in cases}
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "retrying" in logged and "GET /customer" in logged
    assert api_key not in logged and recognition_token not in logged


def test_server_echo_of_the_key_is_redacted(fault_server, make_client, api_key):
    fault_server.script(fault_server.respond(401, f"bad key {api_key}"))

    with pytest.raises(errors.AuthenticationError) as caught:
        make_client(fault_server.base_url).customer()

    assert str(caught.value) == "GET /customer: 401 Unauthorized: bad key ***"
    assert caught.value.server_text == "bad key ***"


def test_client_from_settings_hides_its_secrets(fault_server, api_key, recognition_token):
    env = {
        "COMMPEAK_BASE_URL": fault_server.base_url,
        "COMMPEAK_API_KEY": api_key,
        "COMMPEAK_RECOGNITION_TOKEN": recognition_token,
    }
    fault_server.script(fault_server.json({"task": {"id": 7}}))
    settings = load_settings(env=env)

    with CommPeakClient.from_settings(settings, sleep=lambda s: None) as client:
        assert repr(client) == (
            f"CommPeakClient(base_url='{fault_server.base_url}', api_key=set, "
            "recognition_token=set)"
        )
        assert client.recognize(b"audio") == 7
        assert (client.timeout_s, client.max_retries) == (30.0, 4)

    request = fault_server.requests[0]
    assert request.header("X-Recognition-Token") == recognition_token


def test_an_error_body_echoing_any_configured_secret_is_redacted(fault_server, api_key):
    """Not only the client's own key: the SMTP credentials are configured secrets too, and
    one redaction function knows them all."""
    env = {
        "COMMPEAK_BASE_URL": fault_server.base_url,
        "COMMPEAK_API_KEY": api_key,
        "RATEDECK_SMTP_USER": "relay-user-77",
        "RATEDECK_SMTP_PASSWORD": "smtp-Pa55word-xyz",
    }
    echo = f"key {api_key}, and by the way smtp-Pa55word-xyz for relay-user-77"
    fault_server.script(fault_server.respond(400, echo))
    settings = load_settings(env=env)

    with CommPeakClient.from_settings(settings, sleep=lambda s: None) as client:
        with pytest.raises(errors.HTTPStatusError) as caught:
            client.customer()

    exc = caught.value
    assert str(exc) == "GET /customer: 400 Bad Request: key ***, and by the way *** for ***"
    assert exc.server_text == "key ***, and by the way *** for ***"
    for text in (str(exc), repr(exc), repr(vars(exc)), "".join(traceback.format_exception(exc))):
        assert "smtp-Pa55word-xyz" not in text and api_key not in text
