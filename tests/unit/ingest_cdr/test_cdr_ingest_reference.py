"""The vectorised CDR ingest equals the row-by-row one it replaced (``support.cdr_reference``):
the same calls with the same values, the same rejects with the same row numbers, raw values
and reasons, the same refusals, on real-ish exports (the emulator's Master.csv, FreeSWITCH's
default template, generic CSV and Parquet) and on adversarial input: quotes, blank lines, bad
dates, negative and NaN seconds, unicode, CRLF, BOM, Latin-1, clock changes, and random rows
(hypothesis)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.cdr import assert_same_outcome

from benchmarks.cdr_reference import reference_ingest_cdr
from pipeline.emulator import Market
from pipeline.emulator.cdr import render_switch_cdrs
from pipeline.ingest.cdr import PY_WHITESPACE, GenericColumns, Routing, ingest_cdr
from pipeline.ingest.errors import IngestError

ROUTING = Routing(["current", "021001", "0210011", "021002"], default="current")
COLUMNS = GenericColumns("number", "seconds", "started_at", tech_prefix="route", call_id="id")


def outcome(function, data: bytes, **options):
    """(rows, rejects, total, format) or the refusal (type, message)."""
    options.setdefault("routing", ROUTING)
    options.setdefault("source", "f")
    try:
        result = function(data, **options)
    except IngestError as exc:
        return type(exc).__name__, str(exc)
    return result.rows, result.rejects, result.total_rows, result.source_format


def assert_same(data: bytes, **options) -> None:
    new = outcome(ingest_cdr, data, **options)
    old = outcome(reference_ingest_cdr, data, **options)
    assert_same_outcome(new, old)


def test_python_whitespace_is_what_str_strip_removes():
    assert PY_WHITESPACE == "".join(chr(c) for c in range(0x110000) if chr(c).isspace())


# -- real-ish exports ------------------------------------------------------------------------
def test_the_emulators_master_csv():
    market = Market(7, date(2026, 1, 1), deck_size=300)
    data = render_switch_cdrs(market.day(date(2026, 1, 2)).calls())
    assert data.count(b"\n") > 400
    assert_same(data, cdr_format="asterisk")
    assert_same(data, cdr_format="asterisk", timezone="Europe/Dublin")


def asterisk(*rows, end="\n") -> bytes:
    return "".join(",".join(row) + end for row in rows).encode()


def ast_row(dst='"021001442079460018"', start='"2026-12-01 09:15:00"', duration="129",
            billsec="125", disposition='"ANSWERED"', uniqueid='"1764580500.1"', lastdata=None):  # fmt: skip
    lastdata = lastdata if lastdata is not None else '"SIP/commpeak/021001442079,60,T"'
    return ['"acct"', '"1001"', dst, '"outbound"', '"""Agent 01"" <1001>"', '"SIP/a-1"',
            '"SIP/b-2"', '"Dial"', lastdata, start, '""', '"2026-12-01 09:17:09"', duration,
            billsec, disposition, '"DOCUMENTATION"', uniqueid, '""']  # fmt: skip


ADVERSARIAL_SWITCH = {
    "clean": asterisk(ast_row(), ast_row(billsec="0", disposition='"NO ANSWER"')),
    "crlf": asterisk(ast_row(), ast_row(), end="\r\n"),
    "bom": b"\xef\xbb\xbf" + asterisk(ast_row(), ast_row()),
    "blank lines": asterisk(ast_row()) + b"\n\n  \n,,,\n" + asterisk(ast_row()) + b"\n\n",
    "leading blank line": b"\n" + asterisk(ast_row(), ast_row()),
    "no final newline": asterisk(ast_row(), ast_row())[:-1],
    "lone CR": asterisk(ast_row()) + asterisk(ast_row(), end="\r") + asterisk(ast_row()),
    "quote inside an unquoted field": asterisk(ast_row(), ast_row(dst='44"20'), ast_row()),
    "text after a closing quote": asterisk(ast_row(), ast_row(dst='"4420"x'), ast_row()),
    # polars reads these without complaint, but not as csv does: the quote check sends them
    # to csv (found by fuzzing)
    "quotes after a closing quote": asterisk(
        ast_row(), ast_row(disposition='"NO ANSWER"DOCUMENTATION"1764580:500.1"'), ast_row()
    ),
    "quotes inside an unquoted field": asterisk(ast_row(), ast_row(duration='1""2'), ast_row()),
    "a field ending in a quote": asterisk(ast_row(), ast_row(billsec='12"'), ast_row()),
    "multi-line quoted field": asterisk(ast_row(lastdata='"a\nb"'), ast_row()),
    "unterminated quote": asterisk(ast_row(), ast_row(dst='"4420')),
    "short row": asterisk(ast_row(), ast_row()[:12], ast_row()[:15], ast_row()),
    "wider row": asterisk(ast_row()[:16], ast_row(), ast_row()[:17]),
    "16 and 18 fields": asterisk(ast_row()[:16], ast_row()),
    "empty unquoted fields": asterisk(ast_row(uniqueid=""), [*ast_row()[:15], ""], ast_row()),
    "bad numbers": asterisk(
        *(
            ast_row(dst=d)
            for d in [
                '"s"',
                '""',
                '"+44 20 7946 0018"',
                '"00442079"',
                '"0044"',
                '"4420.0"',
                '"44-20-(79)"',
                '"٤٤٢٠"',
                '" 4420 "',
                '"\u00a04420\u3000"',
                '"44\t20"',
                '"00"',
                '"+"',
                '"0210011"',
                '"02100144"',
                '"44２0"',
                '"[44]20"',
                '"+44 (0) 20 7946 0018"',  # the trunk zero goes (phone.TRUNK_ZERO)
                '"0044(0)2079"',
                '"(0)2079"',  # kept: national
                '"02100100353873333333"',  # the number after a tech prefix loses its 00
                '"021001 00 44 20"',
                '"021001\u00a000442079"',
                '"0210010000442079"',  # one 00 only: the number 00442079
                '"02100100"',  # no digits after the tech prefix
            ]
        )  # fmt: skip
    ),
    "bad seconds": asterisk(
        *(
            ast_row(billsec=b)
            for b in [
                "-3",
                "NaN",
                "1.5",
                "1e3",
                '" 5 "',
                '""',
                "٣",
                "０",
                "1234567890",
                "999999999",
                "0007",
                "+5",
                "inf",
            ]
        )  # fmt: skip
    ),
    "billsec over duration": asterisk(ast_row(duration="10", billsec="11"), ast_row()),
    "bad dates": asterisk(
        *(
            ast_row(start=f'"{s}"')
            for s in [
                "2026-02-30 10:00:00",
                "2026-12-01 25:00:00",
                "2026-12-01 24:00:00",
                "2026-12-31 23:59:60",
                "0000-01-01 00:00:00",
                "2026-12-01T09:15:00",
                "2026-12-01 09:15:00.123",
                "2026-12-01 09:15:00.123456",
                "2026-12-01 09:15:00.1",
                "2026-12-01 09:15:00Z",
                "2026-12-01 09:15:00+01:00",
                "2026-12-01 09:15:00-05:30",
                "2026-12-01 09:15:00+0100",
                "2026-12-01 09:15",
                "2026-12-01",
                "01/12/2026 09:15",
                "2026-12-01 09:15:00 ",
                "now",
                "",
                "2026-12-01x09:15:00",
                "2026-12-01 09:15:00+24:00",
                "2026-12-01 09:15:00,5",
                "１９９９-01-01 00:00:00",
                "0002-01-01 00:00:00+01:00",
                "9998-12-31 23:59:59-01:00",
            ]
        )  # fmt: skip
    ),
    "dispositions": asterisk(
        *(
            ast_row(disposition=d)
            for d in [
                '"answered"',
                '" ANSWERED "',
                '"ANSWERED\u00a0"',
                '""',
                '"BUSY"',
                '"ANSWERÉD"',
                '"anſwered"',
            ]
        )  # fmt: skip
    ),
    "unicode caller names": asterisk(
        [*ast_row()[:4], '"""Zoë Ünal"" <1001>"', *ast_row()[5:]], ast_row()
    ),
    "call ids": asterisk(ast_row(uniqueid='" "'), ast_row(uniqueid='" id\u3000"'), ast_row()),
    # Dial attempts under one uniqueid: a rejected first attempt still counts as the first, a
    # dstchannel with "|" and "," in it, attempts back to the first channel, a blank uniqueid
    "dial attempts": asterisk(
        ast_row(dst='"s"'),
        ast_row(),
        [*ast_row()[:6], '"SIP/c|,3"', *ast_row()[7:]],
        [*ast_row()[:6], '""', *ast_row()[7:]],
        ast_row(billsec="5"),
        [*ast_row()[:6], '"SIP/d-4"', *ast_row()[7:16], '" "', '""'],
        [*ast_row()[:6], '"SIP/d-4"', *ast_row()[7:16], '"1764580500.2"', '""'],
    ),
    "NUL after the first 4 KB": asterisk(*[ast_row()] * 30) + asterisk(ast_row(dst='"44\x0020"')),
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL_SWITCH))
@pytest.mark.parametrize("timezone", ["UTC", "Europe/Dublin"])
def test_adversarial_switch_files(name, timezone):
    assert_same(ADVERSARIAL_SWITCH[name], cdr_format="asterisk", timezone=timezone)


def test_latin1_caller_names():
    data = asterisk([*ast_row()[:4], '"Zo\xeb"', *ast_row()[5:]], ast_row())
    latin1 = data.decode().encode("latin-1")
    assert_same(latin1, cdr_format="asterisk")


@pytest.mark.parametrize(
    "start",
    # Europe/Dublin: 2026-03-29 01:00-02:00 does not exist, 2026-10-25 01:00-02:00 twice
    ["2026-03-29 00:59:59", "2026-03-29 01:00:00", "2026-03-29 01:59:59", "2026-03-29 02:00:00",
     "2026-10-25 00:59:59", "2026-10-25 01:00:00", "2026-10-25 01:30:00", "2026-10-25 02:00:00"],
)  # fmt: skip
@pytest.mark.parametrize("timezone", ["Europe/Dublin", "America/New_York", "Australia/Lord_Howe"])
def test_clock_changes(start, timezone):
    assert_same(asterisk(ast_row(start=f'"{start}"'), ast_row()), cdr_format="asterisk",
                timezone=timezone)  # fmt: skip


def freeswitch(*causes: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for n, cause in enumerate(causes):
        billsec = 0 if cause in ("NO_ANSWER", "USER_BUSY") else 30 + n
        answer = "" if billsec == 0 else "2026-12-01 10:00:05"
        writer.writerow(["Agent", "1001", f"02100144207946{n:04d}", "default",
                         "2026-12-01 10:00:00", answer, "2026-12-01 10:01:00",
                         str(billsec + 5), str(billsec), cause, f"uuid-{n}", "", "", "PCMA",
                         "PCMA"])  # fmt: skip
    return out.getvalue().encode()


def test_freeswitch_default_template():
    causes = ["NORMAL_CLEARING", "NO_ANSWER", "ALLOTTED_TIMEOUT", "USER_BUSY", "MEDIA_TIMEOUT"]
    assert_same(freeswitch(*causes * 50), cdr_format="freeswitch")
    assert_same(ADVERSARIAL_SWITCH["clean"], cdr_format="freeswitch")  # an Asterisk file


# -- generic CSV and Parquet -----------------------------------------------------------------
GENERIC_CSV = (
    "id,number,seconds,started_at,route\n"
    "c1,442079460018,61,2026-12-01 09:00:00,\n"
    "c2,+44 20 7946 0019,0,2026-12-01T09:00:00Z,021009\n"
    "c3,021001442079,30,2026-12-01 09:00:00+02:00,021009\n"
    ",442079,5,2026-12-01 09:00:00,abc\n"
    "c5,442079,-1,2026-12-01 09:00:00,\n"
    "c6,442079,5,bad,\n"
    "c7,,5,2026-12-01 09:00:00,\n"
    "c8,442079,,2026-12-01 09:00:00,\n"
    "c9,442079,5,2026-12-01 09:00:00, current \n"
    "\n"
    'c10,"4420,79",5,2026-12-01 09:00:00,\n'
    "c11,442079,5,2026-12-01 09:00:00,٣\n"
).encode()


@pytest.mark.parametrize("timezone", ["UTC", "America/New_York"])
def test_generic_csv(timezone):
    assert_same(GENERIC_CSV, cdr_format="generic", columns=COLUMNS, timezone=timezone)


def test_generic_csv_with_rows_wider_than_the_header():
    wider = GENERIC_CSV.replace(b"c5,442079,-1,2026-12-01 09:00:00,\n", b"c5,44,20,1,x,y,\n")
    assert wider != GENERIC_CSV
    assert_same(wider + b"c12,442079,5,2026-12-01 09:00:00,,\n", cdr_format="generic",
                columns=COLUMNS)  # fmt: skip


def test_generic_csv_with_blank_rows():
    blank = ",,,,\n \u3000,\t, \x1c\r\n\n".encode()
    later = b"c12,442079,5,2026-12-01 09:00:00,\nc13,s,5,2026-12-01 09:00:00,\n"
    assert_same(GENERIC_CSV + blank + later + b"\n", cdr_format="generic", columns=COLUMNS)
    assert_same(GENERIC_CSV.split(b"\n")[0] + b"\n" + blank, cdr_format="generic",
                columns=COLUMNS)  # fmt: skip


def test_generic_parquet_with_typed_columns():
    frame = pl.DataFrame(
        {
            "id": ["a", "b", None, "d", "e"],
            "number": ["442079460018", "00442079", "x", "44", "0044"],
            "seconds": [61, 0, 5, -2, None],
            "started_at": [
                datetime(2026, 12, 1, 9),
                datetime(2026, 12, 1, 9, 0, 0, 5),
                None,
                datetime(2026, 3, 29, 1, 30),
                datetime(2026, 12, 2),
            ],  # fmt: skip
            "route": [None, "021009", None, "7", "current"],
        }
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    for timezone in ("UTC", "Europe/Dublin"):
        assert_same(buffer.getvalue(), cdr_format="generic", columns=COLUMNS, parquet=True,
                    timezone=timezone)  # fmt: skip
    floats = frame.with_columns(pl.col("seconds").cast(pl.Float64))
    buffer = io.BytesIO()
    floats.write_parquet(buffer)
    assert_same(buffer.getvalue(), cdr_format="generic", columns=COLUMNS, parquet=True)


# -- random rows -----------------------------------------------------------------------------
FIELD_VALUES = {
    "dst": ["021001442079460018", "442079460099", "+44 20 7946", "s", "", "0044", "4420.0",
            "٤٤", " 44 ", "44\t2", "0210011", "00", "+44 (0) 20 7946", "(0)20",
            "02100100442079", "02100100"],
    "start": ["2026-12-01 09:15:00", "2026-03-29 01:30:00", "2026-10-25 01:30:00",
              "2026-12-01T09:15:00Z", "2026-12-01 09:15:00+05:30", "2026-02-30 00:00:00",
              "2026-12-01 09:15:00.250", "", "x", "2026-12-01"],
    "seconds": ["0", "1", "125", "-3", "NaN", "1.5", "", " 7", "٣", "1234567890"],
    "disposition": ["ANSWERED", "NO ANSWER", "BUSY", "answered", "", " ANSWERED"],
    "id": ["1764580500.1", "", " ", "x\u3000"],
}  # fmt: skip


@st.composite
def switch_files(draw):
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        row = ast_row(*(draw(st.sampled_from(FIELD_VALUES[k])) for k in ("dst", "start")),
                      draw(st.sampled_from(FIELD_VALUES["seconds"])),
                      draw(st.sampled_from(FIELD_VALUES["seconds"])),
                      draw(st.sampled_from(FIELD_VALUES["disposition"])),
                      draw(st.sampled_from(FIELD_VALUES["id"])))  # fmt: skip
        quoted = [f'"{v}"' if draw(st.booleans()) and '"' not in v else v for v in row]
        rows.append(quoted[: draw(st.sampled_from([18, 18, 18, 16, 15, 3]))])
    data = "".join(",".join(r) + draw(st.sampled_from(["\n", "\r\n", "\n\n"])) for r in rows)
    return (draw(st.sampled_from(["", "\ufeff"])) + data).encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=switch_files(), timezone=st.sampled_from(["UTC", "Europe/Dublin"]))
def test_random_switch_files(data, timezone):
    assert_same(data, cdr_format="asterisk", timezone=timezone)


GENERIC_VALUES = {
    "number": ["442079460018", "021001442079", "+44 20 7946", "0044 20", "x1", "", "4420.0",
               " 4420", "٤٤", "00", "+44 (0) 20 7946", "0044(0)20", "(0)44",
               "02100100442079", "021001 00 4420", "02100100"],
    "seconds": FIELD_VALUES["seconds"],
    "started_at": [*FIELD_VALUES["start"], "2026-12-01T09:15:00-03:00", "2026-12-01 09:15:00Z",
                   "2026-12-01 09:15:00.123456+01:00", "2026-10-25T01:59:59"],
    "route": ["", "021009", "current", " 7 ", "abc", "٣"],
    "id": ["c1", "", " ", "é"],
}  # fmt: skip


@st.composite
def generic_files(draw):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(["id", "number", "seconds", "started_at", "route"])
    for _ in range(draw(st.integers(0, 12))):
        row = [draw(st.sampled_from(GENERIC_VALUES[k])) for k in
               ("id", "number", "seconds", "started_at", "route")]  # fmt: skip
        # a field more than the header: a reject, or nothing when empty
        writer.writerow(row + draw(st.sampled_from([[], [], [], ["x"], [""], ["a", "b"]])))
    return out.getvalue().encode()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=generic_files(), timezone=st.sampled_from(["UTC", "Europe/Dublin"]))
def test_random_generic_files(data, timezone):
    assert_same(data, cdr_format="generic", columns=COLUMNS, timezone=timezone)
