"""The vectorised carrier-export ingest equals its row-by-row rules applied to every row: the
same calls with the same values, the same rejects with the same lines, raw values and reasons,
the same refusals, on the emulator's export and on random rows of adversarial fields
(hypothesis): spaces of every kind, unicode digits, floats, exponents, signs, clock-less
times, offsets, out-of-range money."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import date

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.cdr import assert_same_outcome

from pipeline.emulator import Market
from pipeline.emulator.cdr import CARRIER_HEADER, render_carrier_cdrs
from pipeline.ingest import carrier
from pipeline.ingest.carrier import CARRIER_CALL_SCHEMA, CarrierColumnNames, ingest_carrier
from pipeline.ingest.errors import IngestError

COLUMNS = CarrierColumnNames()
CURRENCY = "USD"  # the account's


def row_by_row(data: bytes, *, source: str, columns: CarrierColumnNames, currency: str):
    """The reference: every row but a blank one through ``_billed_call`` (what the ingest did
    before)."""
    wanted = asdict(columns)
    table = carrier._read(data, source, wanted)
    shapes = table.reasons(list(range(table.frame.height)))
    lines = [
        line
        for line, values, shape in zip(
            range(2, table.frame.height + 2), table.frame.iter_rows(), shapes, strict=True
        )
        if shape is not None or any((v or "").strip() for v in values)
    ]
    rows, rejects = carrier._row_by_row(table, wanted, lines, currency)
    good = pl.DataFrame(rows, schema=CARRIER_CALL_SCHEMA, orient="row")
    return carrier._result(source, good, rejects)


def outcome(function, data: bytes):
    try:
        result = function(data, source="cdrs.csv", columns=COLUMNS, currency=CURRENCY)
    except IngestError as exc:
        return type(exc).__name__, str(exc)
    return result.rows, result.rejects, result.total_rows, result.source_format


def assert_same(data: bytes) -> None:
    assert_same_outcome(outcome(ingest_carrier, data), outcome(row_by_row, data))


def export(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CARRIER_HEADER)
    writer.writerows(rows)
    return out.getvalue().encode()


def test_the_emulators_export():
    market = Market(7, date(2026, 1, 1), deck_size=300)
    data = render_carrier_cdrs([market.day(date(2026, 1, 2)).calls()])
    assert data.count(b"\n") > 100
    assert_same(data)
    result = ingest_carrier(data, source="e.csv", columns=COLUMNS, currency=CURRENCY)
    assert result.rejects.height == 0


def test_blank_rows_are_no_calls():
    good = ["id1", "2026-11-01 02:53:04", "", "4857979843", "PL", "4857", "89", "90", "0.0856",
            "6/6", "0.1284", "USD"]  # fmt: skip
    bad = ["id2", *good[1:8], "-1", *good[9:]]
    blank = ("\n" + "," * 11 + "\n" + " \u3000,\t,\x1c\r\n").encode()
    header, first, second = export([good, bad]).splitlines(keepends=True)
    assert_same(header + first + blank + second + blank)
    assert_same(header + blank)


SPACES = ["", " ", "\t", "\u00a0", "\u3000", "\x1c"]
FIELDS = {
    "call_id": ["id1", "", "x-2", "ǆ"],
    "started_at": [
        "2026-11-01 02:53:04",
        "2026-11-01T02:53:04Z",
        "2026-11-01T02:53:04.123456+02:00",
        "2026-11-01 02:53:04.123",
        "2026-11-01 25:00:00",
        "2026-02-30 00:00:00",
        "0001-01-01 00:00:00",
        "9999-12-31 23:59:59",
        "2026-11-01",
        "yesterday",
        "",
    ],
    "tech_prefix": ["", "021001", "current", "cp", "٣", "0"],
    "number": [
        "4857979843",
        "+48 57 979-843",
        "0048579",
        "00",
        "4857.0",
        "48s79",
        "٤٨٥٧",
        "(48)[57]",
        "+48 (0) 57 979",  # the trunk zero goes (phone.TRUNK_ZERO)
        "(0)48",
        "+",
        "",
    ],
    "destination": ["Poland - Mobile", "", "Côte d'Ivoire"],
    "prefix": ["4857", "", "48 57"],
    "seconds": ["89", "0", "-1", "1.0", "٣", "²", "1234567890", "123456789", "00012", ""],
    "billed_seconds": ["90", "0", "+1", "1e2", ""],
    "rate": [
        "0.0856",
        "0",
        "1e-3",
        "+1",
        "-0.1",
        "0.123456789",
        "1.000000000",
        "9999999999.99999999",
        "10000000000",
        ".5",
        "5.",
        "00.5",
        "NaN",
        "Infinity",
        "sNaN",
        "1E+30",
        "0E+100",
        "1.5E-3",
        "",
    ],
    "cost": ["0.128400", "0", "1E+2", "0.5"],
    "currency": ["USD", "usd", "", "€", "ß", "ǆ", "Eur"],
}


PLAIN = {  # values the fast path takes as they are (it must convert them as the rules do)
    "call_id": ["id1", "x-2"],
    "started_at": ["2026-11-01 02:53:04", "2026-11-01T02:53:04Z", "2026-11-01T02:53:04.5+02:00"],
    "tech_prefix": ["", "021001", "current"],
    "number": ["4857979843", "+48 57 979-843", "0048579", "(48)[57]1"],
    "destination": ["Poland - Mobile", "", "Côte d'Ivoire"],
    "prefix": ["4857", ""],
    "seconds": ["89", "0", "00012"],
    "billed_seconds": ["90", "0"],
    "rate": ["0.0856", "0", "9999999999.99999999", "00.5"],
    "cost": ["0.128400", "0", "12"],
    "currency": ["USD", "usd", "", "Eur"],
}


@st.composite
def field_value(draw, name: str) -> str:
    """Mostly a plain value (so that whole rows take the fast path), else an adversarial one
    with spaces of any kind around it."""
    if draw(st.integers(0, 9)) < 8:
        return draw(st.sampled_from(PLAIN[name]))
    core = draw(st.sampled_from(FIELDS[name]) | st.text(max_size=6))
    return draw(st.sampled_from(SPACES)) + core + draw(st.sampled_from(SPACES))


@st.composite
def export_row(draw) -> list[str]:
    values = {name: draw(field_value(name)) for name in FIELDS}
    return [
        values["call_id"],
        values["started_at"],
        values["tech_prefix"],
        values["number"],
        values["destination"],
        values["prefix"],
        values["seconds"],
        values["billed_seconds"],
        values["rate"],
        "6/6",
        values["cost"],
        values["currency"],
    ]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(export_row(), min_size=1, max_size=12))
def test_random_rows_equal_the_row_by_row_rules(rows):
    assert_same(export(rows))


def test_a_mostly_good_file_takes_the_fast_path_and_keeps_line_order():
    good = ["id", "2026-11-01 02:53:04", "", "4857979843", "PL", "4857", "89", "90", "0.0856",
            "6/6", "0.1284", "usd"]  # fmt: skip
    rows = [[f"id{i}", *good[1:]] for i in range(50)]
    rows[7][3] = " +48 57 "  # to strip: the row-by-row path, its line kept in order
    rows[9][8] = "-1"  # a reject
    data = export(rows)
    assert_same(data)
    wanted = asdict(COLUMNS)
    checked = carrier._fast_check(
        carrier._read(data, "f", wanted).frame.select(
            pl.col(header).alias(field) for field, header in wanted.items()
        ),
        CURRENCY,
        trusted=pl.lit(True),
    )
    assert (~checked["_fast"]).arg_true().to_list() == [7, 9]
    result = ingest_carrier(data, source="f", columns=COLUMNS, currency=CURRENCY)
    assert result.rows["row_number"].to_list() == [n for n in range(2, 52) if n != 11]
    assert result.rows["currency"].unique().to_list() == ["USD"]


ORDER = ["call_id", "started_at", "tech_prefix", "number", "destination", "prefix", "seconds",
         "billed_seconds", "rate", None, "cost", "currency"]  # fmt: skip


def test_every_edge_value_in_an_otherwise_plain_row():
    """Each adversarial value of each field, bare and with spaces around, in a row whose
    other fields are plain: whichever path the row takes, the rules' outcome."""
    plain = {name: values[0] for name, values in PLAIN.items()}
    rows = []
    for name, values in FIELDS.items():
        for value in values:
            for space in ("", " ", "\u3000", "\x1c"):
                fields = {**plain, name: space + value + space}
                rows.append([fields[n] if n else "6/6" for n in ORDER])
    assert len(rows) > 300
    assert_same(export(rows))
