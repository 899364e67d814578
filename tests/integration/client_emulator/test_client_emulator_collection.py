"""The emulator's market against the Postman collection's own examples: same shapes, same
headers, the same kind of data (the collection is read at test time from ``../shared``)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from pipeline.commpeak import VENDOR_ACCEPT, CommPeakClient
from pipeline.emulator import DEFAULT_API_KEY, EmulatorServer


def _request(collection: dict[str, Any], name: str) -> dict[str, Any]:
    stack = list(collection["item"])
    while stack:
        item = stack.pop()
        if item.get("name") == name and "request" in item:
            return item
        stack.extend(item.get("item", []))
    raise AssertionError(f"the collection has no request named {name!r}")


def _example(collection: dict[str, Any], name: str, code: int = 200) -> dict[str, Any]:
    return next(r for r in _request(collection, name)["response"] if r["code"] == code)


def _header(response: dict[str, Any], name: str) -> str:
    return next(h["value"] for h in response["header"] if h["key"].lower() == name.lower())


def _body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"], parse_float=Decimal)


def test_customer_has_the_collections_keys(
    client: CommPeakClient, collection: dict[str, Any]
) -> None:
    documented = _body(_example(collection, "Customer Details"))
    served = json.loads(client.customer_raw(), parse_float=Decimal)
    assert served.keys() == documented.keys() == {"customer"}
    assert served["customer"].keys() == documented["customer"].keys()
    assert all(isinstance(v, Decimal | int) for k, v in served["customer"].items() if k != "email")


def test_rates_carry_the_collections_example_destinations(
    client: CommPeakClient, collection: dict[str, Any]
) -> None:
    documented = _body(_example(collection, "Show Voice Rates"))["rates"]
    served = {r.prefix: r.destination for r in client.rates("current")}
    for row in documented:  # 353 Ireland - Fixed, 35389 Ireland - Mobile
        assert served[row["prefix"]] == row["destination"]


def test_search_35389_returns_nested_ireland_mobile_ranges(
    client: CommPeakClient, collection: dict[str, Any]
) -> None:
    documented = _body(_example(collection, "Search rates by phone prefix"))["rates"]
    group = documented[0]  # 35389 Ireland - Mobile, then operator ranges inside it
    assert (group["prefix"], group["destination"]) == ("35389", "Ireland - Mobile")

    found = client.search_rates("current", group["prefix"])
    assert (found[0].prefix, found[0].destination) == ("35389", "Ireland - Mobile")
    ranges = found[1:]
    assert len(ranges) >= len(documented) - 1
    assert all(r.prefix.startswith("35389") and len(r.prefix) > 5 for r in ranges)
    assert all(r.destination.startswith("Ireland - Mobile - ") for r in ranges)
    served = {r.prefix: r.destination for r in found}
    for row in documented[1:]:  # 3538994, 3538995: an operator's ranges (Lycatel there)
        assert served[row["prefix"]].startswith("Ireland - Mobile - ")
    assert len({r.destination for r in ranges}) > 1  # several operators
    assert all(r.price > 0 for r in found)


@pytest.mark.parametrize(
    ("example", "fmt"),
    [("Download current rates as CSV", "csv"), ("Download current rates as XLS", "xls")],
)
def test_downloads_have_the_collections_headers(
    emulator: EmulatorServer,
    client: CommPeakClient,
    collection: dict[str, Any],
    tmp_path: Path,
    example: str,
    fmt: str,
) -> None:
    documented = next(
        r
        for r in _request(collection, "Download current rates")["response"]
        if r["name"] == example
    )
    content_type = _header(documented, "Content-Type")
    download = client.download_rates("current", tmp_path / f"d.{fmt}", fmt=fmt)
    assert download.content_type == content_type

    # the same disposition as documented, with the emulator's file name in both parameters
    pattern = re.escape(_header(documented, "Content-Disposition")).replace(
        re.escape(f"filename.{fmt}"), rf"(rates_current_\d{{4}}-\d{{2}}-\d{{2}}\.{fmt})"
    )
    accept = _header(documented["originalRequest"], "Accept")
    assert accept == VENDOR_ACCEPT + content_type
    raw = requests.get(
        emulator.url + "/rates/current/download",
        headers={"Authorization": f"Token {DEFAULT_API_KEY}", "Accept": accept},
        timeout=10,
    )
    disposition = raw.headers["Content-Disposition"]
    match = re.fullmatch(pattern, disposition)
    assert match, disposition
    assert match.group(1) == match.group(2) == download.filename


def test_csv_deck_matches_the_collections_example(
    client: CommPeakClient, collection: dict[str, Any], tmp_path: Path
) -> None:
    documented = next(
        r
        for r in _request(collection, "Download current rates")["response"]
        if r["name"] == "Download current rates as CSV"
    )
    header, example_row = documented["body"].splitlines()  # Afghanistan - Fixed,93,0.75,1/1
    destination, prefix, _price, _increments = example_row.split(",")
    lines = client.download_rates("current", tmp_path / "d.csv").path.read_text().splitlines()
    assert lines[0] == header
    served = next(line.split(",") for line in lines[1:] if line.split(",")[1] == prefix)
    assert served[0] == destination
    assert re.fullmatch(r"[0-9]+\.[0-9]+|[0-9]+", served[2])
    assert re.fullmatch(r"[0-9]+/[0-9]+", served[3])


def test_sms_rows_have_rate_mcc_mnc(client: CommPeakClient, collection: dict[str, Any]) -> None:
    documented = _body(_example(collection, "Show SMS Rates"))
    served = json.loads(client.sms_rates_raw("acme", "7"), parse_float=Decimal)
    assert {frozenset(row) for row in served} == {frozenset(row) for row in documented}
    assert {frozenset(row) for row in documented} == {frozenset({"rate", "mcc", "mnc"})}
    pairs = {(row["mcc"], row["mnc"]) for row in served}
    assert {(row["mcc"], row["mnc"]) for row in documented} <= pairs  # (10, 210), (9, 210)


def test_speech_task_id_and_result_shape(
    client: CommPeakClient, collection: dict[str, Any]
) -> None:
    documented_task = _body(_example(collection, "Recognize", 201))
    task_id = client.recognize(b"\x00" * 32_000, languages="es", remote_identifier="test123")
    assert task_id == documented_task["task"]["id"]  # 32421
    documented = _body(_example(collection, "Get Result"))
    served = client.speech_result(task_id)
    assert served.keys() == documented.keys()
    assert served["result"].keys() == documented["result"].keys()
    assert served["result"]["phrases"][0].keys() == documented["result"]["phrases"][0].keys()
