"""Bad rows of an SMS list, through a real run: the client lands the body as served, ingest
refuses each bad row alone (``ingest_reject``, kind 'sms', with its reason) and the rest load.
A small real HTTP server serves the bodies the emulator cannot (a null rate, an MNC range)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from support.reliability import is_one_line, make_settings, query

from pipeline.orchestrate import run_pipeline

CHANNEL = {"username": "acme", "id": "1"}
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


def good_rows(count: int) -> list[str]:
    return [f'{{"rate": 0.0{i % 9 + 1}, "mcc": 262, "mnc": {i}}}' for i in range(1, count + 1)]


def run_sms(static_server, tmp_path, body: bytes, **sms: object):
    server = static_server(lambda path: body, JSON_HEADERS)
    settings = make_settings(tmp_path / "data", server.url, sms={"channels": [CHANNEL], **sms})
    return settings, run_pipeline(settings, ["sms"], report=False)


def rejects(settings) -> list[tuple]:
    return query(
        settings.warehouse_path,
        "SELECT kind, source, row_number, raw, reason FROM wh.ingest_reject ORDER BY row_number",
    )


def test_bad_sms_rows_are_rejects_and_the_rest_loads(static_server, tmp_path):
    bad = [
        '{"rate": null, "mcc": 262, "mnc": 901}',  # no rate
        '{"rate": 0.05, "mcc": 262, "mnc": null}',  # a country-level row
        '{"rate": 0.05, "mcc": 234}',  # no mnc at all
        '{"rate": 0.05, "mcc": 310, "mnc": "100 - 190"}',  # the pbakondy list's MNC range
        '{"rate": 0.05, "mcc": 262, "mnc": 1.5}',
        '{"rate": NaN, "mcc": 262, "mnc": 902}',
    ]
    body = ("[" + ", ".join(good_rows(194) + bad) + "]").encode()
    settings, summary = run_sms(static_server, tmp_path, body)

    assert summary.ok, [failure.error for failure in summary.failures]
    assert query(
        settings.warehouse_path, "SELECT row_count, reject_count FROM wh.sms_snapshot"
    ) == [(194, 6)]
    assert rejects(settings) == [
        ("sms", "acme:1", 195, '{"rate": "null", "mcc": "262", "mnc": "901"}', "rate: null"),
        (
            "sms",
            "acme:1",
            196,
            '{"rate": "0.05", "mcc": "262", "mnc": "null"}',
            "mnc: null",
        ),
        ("sms", "acme:1", 197, '{"rate": "0.05", "mcc": "234"}', "mnc: missing"),
        (
            "sms",
            "acme:1",
            198,
            json.dumps({"rate": "0.05", "mcc": "310", "mnc": "100 - 190"}),
            """mnc: not a JSON integer '"100 - 190"'""",
        ),
        (
            "sms",
            "acme:1",
            199,
            '{"rate": "0.05", "mcc": "262", "mnc": "1.5"}',
            "mnc: not a JSON integer '1.5'",
        ),
        (
            "sms",
            "acme:1",
            200,
            '{"rate": "NaN", "mcc": "262", "mnc": "902"}',
            "rate: not a JSON number 'NaN'",
        ),
    ]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"rates": []}', "GET /rates/sms: unexpected JSON: body: expected a list, got dict"),
        (b"[1, 2]", "GET /rates/sms: unexpected JSON: [0]: expected an object, got int"),
        (b"not json", "GET /rates/sms: body is not JSON (8 bytes)"),
    ],
)
def test_a_body_that_is_no_list_of_objects_fails_the_channel_in_one_line(
    static_server, tmp_path, body, error
):
    settings, summary = run_sms(static_server, tmp_path, body)

    (failure,) = summary.failures
    assert is_one_line(failure.error)
    assert error in failure.error
    assert not settings.warehouse_path.exists() or query(
        settings.warehouse_path, "SELECT count(*) FROM wh.sms_snapshot"
    ) == [(0,)]


def test_an_exact_repeat_is_a_reject_and_does_not_count_towards_the_limit(static_server, tmp_path):
    """Like voice: the first row stays, each identical repeat is refused as `duplicate of row
    N`. 30 repeats in 130 rows are 23% of the list, far over the 5% limit, and still load:
    a repeat loses nothing (the musalbas table repeats 476 of its 2,599 rows)."""
    rows = good_rows(100)
    body = ("[" + ", ".join(rows + rows[:30]) + "]").encode()
    settings, summary = run_sms(static_server, tmp_path, body)

    assert summary.ok, [failure.error for failure in summary.failures]
    assert query(
        settings.warehouse_path, "SELECT row_count, reject_count FROM wh.sms_snapshot"
    ) == [(100, 30)]
    found = rejects(settings)
    assert [(row_number, reason) for _, _, row_number, _, reason in found] == [
        (100 + n, f"duplicate of row {n}") for n in range(1, 31)
    ]
    assert found[0][3] == '{"rate": "0.02", "mcc": "262", "mnc": "1"}'


def test_repeats_are_not_counted_but_other_rejects_are(static_server, tmp_path):
    rows = good_rows(100)
    bad = [f'{{"rate": -1, "mcc": 262, "mnc": {900 + n}}}' for n in range(6)]
    body = ("[" + ", ".join(rows + rows[:50] + bad) + "]").encode()
    settings, summary = run_sms(static_server, tmp_path, body)

    (failure,) = summary.failures
    assert is_one_line(failure.error)
    assert "6 of 106 rows rejected (5.66%, limit 5.00%; 50 identical repeats not counted)" in (
        failure.error
    )


def test_too_many_rejects_is_one_short_line_naming_the_full_list(static_server, tmp_path):
    """A real list (musalbas) refused with 117 pairs listed at differing rates made a 2,607
    character line: each pair was a kind of its own, each listing every rate and row."""
    groups = [
        f'{{"rate": 0.1{k}{n}, "mcc": 250, "mnc": {300 + k}}}' for k in range(60) for n in range(3)
    ]
    big = [f'{{"rate": 0.2{n:03}, "mcc": 250, "mnc": 299}}' for n in range(67)]
    bad = ['{"rate": null, "mcc": 1, "mnc": 1}', '{"rate": 0.1, "mcc": 1, "mnc": "1-9"}']
    body = ("[" + ", ".join(good_rows(100) + groups + big + bad) + "]").encode()
    settings, summary = run_sms(static_server, tmp_path, body)

    (failure,) = summary.failures
    assert is_one_line(failure.error)
    assert len(failure.error) < 400, failure.error
    stem = Path(failure.error.split(": ")[0]).stem  # the landed file's: raw/sms/acme_1/<stem>.json
    assert failure.error == (
        f"raw/sms/acme_1/{stem}.json: 249 of 349 rows rejected (71.35%, limit 5.00%): "
        "conflicting duplicate (247), mnc: not a JSON integer (1), rate: null (1); "
        f"every reject in staging/sms/acme_1/{stem}.rejects.parquet"
    )
    listed = pl.read_parquet(settings.data_dir / f"staging/sms/acme_1/{stem}.rejects.parquet")
    assert listed.height == 249
    reasons = set(listed["reason"])
    assert (
        "conflicting duplicate: mcc 250 mnc 299 has 67 rates from 0.2 to 0.2066 "
        "(rows 281, 282, 283, 284, 285 and 62 more)"
    ) in reasons
    assert (
        "conflicting duplicate: mcc 250 mnc 300 has rates 0.1, 0.101, 0.102 (rows 101, 102, 103)"
        in (reasons)
    )
    assert not settings.warehouse_path.exists() or query(
        settings.warehouse_path, "SELECT count(*) FROM wh.ingest_reject"
    ) == [(0,)]
