"""Idempotency: replaying a raw file, re-running a partition (the load step alone, as Dagster's
"re-execute" does, or the whole partition), re-sending a report: no duplicate row, no
duplicate email."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import dagster as dg
import pytest
from aiosmtpd.controller import Controller
from support.reliability import (
    TECH_PREFIX,
    dump_both,
    dump_warehouse,
    make_settings,
    query,
)

from pipeline.commpeak import CommPeakClient
from pipeline.defs import build_definitions
from pipeline.landing import LandingZone
from pipeline.orchestrate import run_pipeline
from pipeline.reports.build import build_report
from pipeline.reports.errors import StaleReportError
from pipeline.reports.send import report_and_send, send_report
from pipeline.stages.voice import fetch_voice_deck, load_voice_deck, normalise_voice_deck
from pipeline.warehouse.db import Warehouse

pytestmark = pytest.mark.slow  # full pipeline runs, twice each


def load_next_day(settings, server) -> str:
    """Market day +1 fetched, normalised and loaded by the stage functions; its raw file."""
    server.advance_day()
    with CommPeakClient.from_settings(settings) as client:
        landed = fetch_voice_deck(settings, client, TECH_PREFIX)
    load = load_voice_deck(settings, normalise_voice_deck(settings, landed))
    assert not load.replayed
    return landed.relative_path


def replay(settings, relative_path: str):
    landed = LandingZone(settings.data_dir).open_landed("voice", TECH_PREFIX, relative_path)
    return load_voice_deck(settings, normalise_voice_deck(settings, landed))


def no_duplicate_versions(settings) -> bool:
    duplicates = query(
        settings.warehouse_path,
        "SELECT count(*) FROM (SELECT tech_prefix, prefix, effective_at, valid_from "
        "FROM wh.voice_rate GROUP BY ALL HAVING count(*) > 1)",
    )
    return duplicates == [(0,)]


def test_replaying_raw_files_changes_nothing(server, data_dir):
    settings = make_settings(data_dir, server.url)
    (day1,) = [
        r[0] for r in query(settings.warehouse_path, "SELECT raw_path FROM wh.voice_snapshot")
    ]
    day2 = load_next_day(settings, server)
    before = dump_both(settings)

    for raw in (day2, day1, day2):  # the latest, an older one, the latest again
        outcome = replay(settings, raw)
        assert outcome.replayed and outcome.raw_path == raw

    assert dump_both(settings) == before
    assert no_duplicate_versions(settings)


def test_rerunning_a_partition_adds_no_duplicates(server, data_dir, dagster_instance):
    settings = make_settings(data_dir, server.url)
    server.advance_day()
    first = run_pipeline(settings, ["voice"], instance=dagster_instance)
    assert first.ok
    after_first = dump_both(settings)

    # Dagster's "re-execute": the load step alone, on the normalised deck it stored
    defs = build_definitions(settings)
    again = dg.materialize(
        list(defs.assets or []),
        resources=defs.resources,
        selection=dg.AssetSelection.assets("voice_rate_history"),
        partition_key=TECH_PREFIX,
        instance=dagster_instance,
        raise_on_error=False,
    )
    assert again.success
    (event,) = again.get_asset_materialization_events()
    assert event.step_materialization_data.materialization.metadata["replayed"].value is True
    assert dump_both(settings) == after_first

    # the whole partition again: a new fetch of an unchanged deck adds a snapshot, no versions
    second = run_pipeline(settings, ["voice"], instance=dagster_instance)
    assert second.ok
    after_second = dump_warehouse(settings.warehouse_path)
    changed = sorted(t for t in after_second if after_second[t] != after_first[0][t])
    assert changed == ["voice_snapshot"]
    assert no_duplicate_versions(settings)
    assert len(after_second["report_log"]) == 1  # the day's changes, reported once
    assert len(list(settings.outbox_dir.glob("*.eml"))) == 1


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd hook
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_resending_a_report_sends_no_duplicate_email(server, data_dir, smtp_inbox):
    inbox, port = smtp_inbox
    settings = make_settings(
        data_dir, server.url, smtp={"host": "127.0.0.1", "port": port, "starttls": False}
    )
    load_next_day(settings, server)
    wh = Warehouse(settings)
    with wh.writer() as con:
        stale = build_report(con, settings)  # built, not sent yet
    assert stale is not None

    first = report_and_send(wh, settings)
    assert first is not None and first.status == "sent"
    assert report_and_send(wh, settings) is None  # nothing left to report
    with wh.writer() as con, pytest.raises(StaleReportError):
        send_report(con, settings, stale)  # an old copy of the same report

    assert len(inbox.messages) == 1
    reports = query(settings.warehouse_path, "SELECT status, change_count FROM wh.report_log")
    assert reports == [("sent", first.change_count)]
    reported = query(
        settings.warehouse_path, "SELECT count(*), count(DISTINCT change_id) FROM wh.report_change"
    )
    assert reported == [(first.change_count, first.change_count)]
