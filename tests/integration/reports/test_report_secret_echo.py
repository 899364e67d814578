"""A relay that echoes the SMTP password (or any configured secret) in its replies, at any
stage of the dialogue, must not get it onto stderr, report_log.error, an exception or
Dagster's run storage: every error text built from a server reply is scrubbed."""

from __future__ import annotations

import base64
import logging

import dagster as dg
import pytest
from aiosmtpd.smtp import AuthResult
from support.reports import T1, DeckHistory, populate_sample
from support.smtp import RecordingHandler, running_smtp

from pipeline import cli
from pipeline.defs.report import build_report_defs
from pipeline.defs.resources import ratedeck_resources
from pipeline.notify.errors import DeliveryError
from pipeline.reports import report_and_send
from pipeline.settings import load_settings
from pipeline.warehouse.db import Warehouse

USER = "ratedeck-relay-user"
PASSWORD = "pa55-Echoed-Back"
API_KEY = "ck-live-5f1e2d3c4b5a69788"
STAGES = ["EHLO", "AUTH", "MAIL", "RCPT", "DATA"]


def echoed() -> str:
    """What a careless relay repeats: the password, the API key, and the AUTH forms."""
    plain = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
    login = base64.b64encode(PASSWORD.encode()).decode()
    return f"you sent {PASSWORD} ({login}, {plain}) and {USER}, key {API_KEY}"


SECRETS = [PASSWORD, API_KEY, base64.b64encode(PASSWORD.encode()).decode()]


class EchoingHandler(RecordingHandler):
    """Refuses one stage with a reply that repeats the secrets."""

    def __init__(self, stage: str) -> None:
        super().__init__()
        self.stage = stage

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        if self.stage == "EHLO":
            return [f"554 5.7.1 {echoed()}"]
        session.host_name = hostname  # a handler hook takes this over from aiosmtpd
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        if self.stage == "EHLO":
            return f"554 5.7.1 {echoed()}"
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.stage == "MAIL":
            return f"553 5.1.8 {echoed()}"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.stage == "RCPT":
            return f"550 5.1.1 {echoed()}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.stage == "DATA":
            return f"554 5.6.0 {echoed()}"
        return await super().handle_DATA(server, session, envelope)

    def authenticator(self, server, session, envelope, mechanism, auth_data):
        if self.stage == "AUTH":
            return AuthResult(success=False, handled=False, message=f"535 5.7.8 {echoed()}")
        return AuthResult(success=True)


def secret_settings(settings, port: int):
    env = {
        "RATEDECK_SMTP_USER": USER,
        "RATEDECK_SMTP_PASSWORD": PASSWORD,
        "COMMPEAK_API_KEY": API_KEY,
    }
    return (
        load_settings(env=env)
        .with_overrides(
            **settings.model_dump(),
        )
        .with_overrides(smtp={"host": "127.0.0.1", "port": port, "starttls": False})
    )


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


@pytest.fixture
def published(settings):
    with Warehouse(settings).writer() as con:
        populate_sample(DeckHistory(con))
    return settings


@pytest.mark.parametrize("stage", STAGES)
def test_an_echoed_secret_appears_nowhere(stage, published, monkeypatch, capfd, caplog):
    handler = EchoingHandler(stage)
    caplog.set_level(logging.DEBUG)
    with running_smtp(
        handler, authenticator=handler.authenticator, auth_require_tls=False
    ) as controller:
        settings = secret_settings(published, controller.port)
        with pytest.raises(DeliveryError) as info:
            report_and_send(Warehouse(settings), settings, now=T1)
        monkeypatch.setattr(cli, "COMMANDS", {"report": cli.COMMANDS["report"]})
        monkeypatch.setattr("pipeline.settings.load_settings", lambda config=None: settings)
        exit_code = cli.main(["report", "--send"])

    assert exit_code == 1 and not handler.messages
    assert_clean(str(info.value) + repr(info.value) + repr(info.value.args))
    assert "***" in str(info.value) or stage == "AUTH"  # the reply is kept, scrubbed
    out, err = capfd.readouterr()
    assert "ratedeck: error:" in err
    assert_clean(out + err)
    ours = [r for r in caplog.records if not r.name.startswith("mail")]  # not the test server's
    assert_clean("\n".join(r.getMessage() + str(r.exc_info) for r in ours))
    with Warehouse(settings).working_reader() as con:
        errors = [e for (e,) in con.execute("SELECT error FROM report_log").fetchall()]
        pending = con.execute("SELECT last_error FROM pending_delivery").fetchall()
    assert len(errors) == 2 and all(errors)
    assert_clean(" ".join(errors) + repr(pending))


def test_dagster_run_storage_never_holds_an_echoed_secret(published):
    handler = EchoingHandler("RCPT")
    with running_smtp(
        handler, authenticator=handler.authenticator, auth_require_tls=False
    ) as controller:
        settings = secret_settings(published, controller.port)
        instance = dg.DagsterInstance.ephemeral()
        result = dg.materialize(
            build_report_defs(settings),
            instance=instance,
            raise_on_error=False,
            resources=ratedeck_resources(settings),
        )
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "550 5.1.1" in str(failure.step_failure_data.error)  # the reply is there, scrubbed
    stored = "\n".join(dg.serialize_value(entry) for entry in instance.all_logs(result.run_id))
    assert "550 5.1.1" in stored
    assert_clean(stored)
