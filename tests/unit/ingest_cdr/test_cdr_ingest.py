"""CDR ingest (pure): Asterisk Master.csv, FreeSWITCH mod_cdr_csv, generic CSV/Parquet;
rejects with row numbers, unanswered calls kept as not billable, the tech-prefix rule, time
zones."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from pipeline.ingest.cdr import (
    BadField,
    GenericColumns,
    Routing,
    ingest_cdr,
    record_keys,
    whole_seconds,
)
from pipeline.ingest.errors import NoValidRowsError, UnrecognisedFormatError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cdr"
ROUTING = Routing(["current", "021001", "0210011"], default="current")


def ingest(name: str, cdr_format, **options):
    data = (FIXTURES / name).read_bytes()
    options.setdefault("routing", ROUTING)
    return ingest_cdr(data, source=name, cdr_format=cdr_format, **options)


def test_asterisk_master_csv():
    result = ingest("Master.csv", "asterisk")
    rows = result.rows.to_dicts()
    assert [r["row_number"] for r in rows] == [1, 2, 3, 6]
    first = rows[0]
    assert first["call_id"] == "1764580500.1"
    assert first["started_at"] == datetime(2026, 12, 1, 9, 15, tzinfo=UTC)
    assert (first["tech_prefix"], first["number"]) == ("021001", "35315551234")
    assert (first["duration_seconds"], first["billsec"], first["billable"]) == (129, 125, True)
    # unanswered and busy calls are kept, not billable; a "+44 20 ..." number is normalised
    assert [(r["number"], r["billable"], r["disposition"]) for r in rows[1:]] == [
        ("442079460018", False, "NO ANSWER"),
        ("442079460099", True, "ANSWERED"),
        ("4420794601", False, "BUSY"),
    ]
    assert result.source_format == "asterisk"
    assert result.total_rows == 6


def test_asterisk_rejects_carry_row_numbers_reasons_and_raw_values():
    rejects = ingest("Master.csv", "asterisk").rejects.to_dicts()
    assert [(r["row_number"], r["reason"]) for r in rejects] == [
        (4, "number 's': letters are not allowed"),
        (5, "billsec 40 exceeds duration 38"),
    ]
    assert json.loads(rejects[0]["raw"])["3"] == "s"


def test_freeswitch_default_template():
    result = ingest("freeswitch.csv", "freeswitch")
    rows = result.rows.to_dicts()
    assert [(r["row_number"], r["billable"], r["disposition"]) for r in rows] == [
        (1, True, "NORMAL_CLEARING"),
        (2, False, "NO_ANSWER"),
        (3, True, "NORMAL_CLEARING"),
    ]
    assert rows[0]["call_id"] == "a1b2c3d4-0001-4000-8000-000000000001"
    assert (rows[0]["tech_prefix"], rows[0]["number"]) == ("021001", "35315551234")
    assert [(r["row_number"], r["reason"]) for r in result.rejects.to_dicts()] == [
        (4, "start time '2026-12-01 25:00:00': expected YYYY-MM-DD HH:MM:SS"),
        (5, "billsec '1.5': expected whole seconds >= 0"),
    ]


def _freeswitch_line(cause: str, answer: str, billsec: int) -> bytes:
    """One line of mod_cdr_csv's ``default`` template (every field quoted)."""
    fields = ["Agent 07", "4420795007", "021001442079460018", "default", "2026-12-01 10:00:00",
              answer, "2026-12-01 10:05:12", str(12 + billsec), str(billsec), cause,
              "5c1e7a52-9d4e-4a8e-8e0b-3f2d1c0b9a87", "", "callcentre", "PCMA", "PCMA"]  # fmt: skip
    return (",".join(f'"{v}"' for v in fields) + "\n").encode()


@pytest.mark.parametrize(
    ("cause", "answer", "billsec", "billable"),
    [
        # FreeSWITCH sets billsec = hangup - answer when the call was answered, else 0
        # (switch_channel_set_timestamps): an answered call bills whatever ended it
        ("NORMAL_CLEARING", "2026-12-01 10:00:12", 300, True),
        ("ALLOTTED_TIMEOUT", "2026-12-01 10:00:12", 300, True),  # the dialplan's time limit
        ("NORMAL_UNSPECIFIED", "2026-12-01 10:00:12", 300, True),
        ("MEDIA_TIMEOUT", "2026-12-01 10:00:12", 300, True),  # RTP stopped mid-call
        ("NORMAL_CLEARING", "2026-12-01 10:00:12", 0, False),  # answered, hung up at once
        ("USER_BUSY", "", 0, False),
        ("NO_ANSWER", "", 0, False),
        ("ORIGINATOR_CANCEL", "", 0, False),
    ],
)
def test_a_freeswitch_call_bills_when_it_was_answered(cause, answer, billsec, billable):
    line = _freeswitch_line(cause, answer, billsec)
    result = ingest_cdr(line, source="fs", cdr_format="freeswitch", routing=ROUTING)
    assert result.rows.select("billsec", "billable", "disposition").rows() == [
        (billsec, billable, cause)
    ]


def test_switch_time_is_converted_from_the_configured_zone():
    result = ingest("Master.csv", "asterisk", timezone="America/New_York")
    assert result.rows["started_at"][0] == datetime(2026, 12, 1, 14, 15, tzinfo=UTC)


def test_a_time_the_clock_skipped_is_a_reject():
    line = b",1001,4420,ctx,,,,,,2026-03-29 01:30:00,,2026-03-29 01:31:00,60,50,ANSWERED,DOC\n"
    with pytest.raises(NoValidRowsError, match="does not exist in Europe/Dublin"):
        ingest_cdr(
            line, source="m", cdr_format="asterisk", routing=ROUTING, timezone="Europe/Dublin"
        )


@pytest.mark.parametrize(
    ("dialled", "column", "expected"),
    [
        ("0210011442079", None, ("0210011", "442079")),  # the longest configured prefix wins
        ("021001442079", "021009", ("021001", "442079")),  # dialled beats the column
        ("442079", "021009", ("021009", "442079")),  # else the column
        ("442079", None, ("current", "442079")),  # else the default
        ("021001", None, ("current", "021001")),  # a prefix alone is a number, not a route
    ],
)
def test_tech_prefix_rule(dialled, column, expected):
    assert ROUTING.split(dialled, column) == expected


@pytest.mark.parametrize(
    ("dialled", "number"),
    [
        ("02100100353873333333", "353873333333"),  # the fast path
        ("021001 00 353 87 333 3333", "353873333333"),
        ("021001\u00a000353873333333", "353873333333"),  # the row-by-row path
        ("0210010000442079460000", "00442079460000"),  # one 00 goes, as anywhere
        ("00 021001 00353873333333", "353873333333"),  # the whole number's 00, then the rest's
    ],
)
def test_a_number_dialled_after_a_tech_prefix_is_normalised(dialled, number):
    """The switch sends the tech prefix, then the number as the user dialled it (00 and all):
    the number is normalised after the tech prefix goes, as lookup and cost normalise it
    (docs/analysts.md). It was stored as 00353..., which the carrier's 353... never paired."""
    data = f"number,seconds,started_at\n{dialled},60,2026-12-01 09:00:00\n".encode()
    result = ingest_cdr(data, source="g", cdr_format="generic", routing=ROUTING)
    assert result.rows.select("dialled", "tech_prefix", "number").rows() == [
        (dialled, "021001", number)
    ]


def test_no_digits_after_a_tech_prefix_is_a_reject():
    data = master() + master(uniqueid="1.2").replace(b"021001442079460018", b"02100100")
    result = ingest_cdr(data, source="m", cdr_format="asterisk", routing=ROUTING)
    assert result.rows["call_id"].to_list() == ["1.1"]
    assert result.rejects.select("row_number", "reason").rows() == [
        (2, "number '02100100': no digits after tech prefix 021001")
    ]


def test_a_generic_row_with_more_fields_than_the_header_is_a_reject_the_rest_imports():
    """polars refused the whole file on one such row ("found more fields than defined in
    'Schema'", no line named); a short row was already a reject of its own."""
    data = (
        b"number,seconds,started_at\n"
        b"442079460001,60,2026-12-01 09:00:00\n"
        b"44 20,79,60,2026-12-01 09:01:00\n"
        b"442079460003,60\n"
        b"442079460004,60,2026-12-01 09:03:00,\n"
    )
    assert generic_lines(data) == (
        [(2, "442079460001"), (5, "442079460004")],
        [
            (3, "4 fields, the header has 3: a comma in an unquoted field?"),
            (4, "start time: empty"),
        ],
    )


def generic_lines(data: bytes) -> tuple[list[tuple], list[tuple]]:
    """The (row number, number) of the calls and (row number, reason) of the rejects."""
    result = ingest_cdr(data, source="g", cdr_format="generic", routing=ROUTING)
    assert result.total_rows == result.rows.height + result.rejects.height
    calls = result.rows.select("row_number", "number").rows()
    return calls, result.rejects.select("row_number", "reason").rows()


def test_a_wide_row_in_a_file_with_a_record_over_two_lines_is_one_line_naming_the_file():
    """Rows then are not lines, and the row polars cut cannot be found: refused in one line."""
    data = b'number,seconds,started_at\n"4420\n79",60,2026-12-01 09:00:00\n44,20,60,x\n'
    with pytest.raises(UnrecognisedFormatError) as caught:
        ingest_cdr(data, source="g.csv", cdr_format="generic", routing=ROUTING)
    assert str(caught.value) == (
        "g.csv: a row has more fields than the header, and a quoted field runs over several "
        "lines: cannot tell which row; quote the field with the comma"
    )


@pytest.mark.parametrize("data", [b"", b"\n\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n\t\r\n"])
def test_a_generic_csv_of_no_row_is_empty_not_refused(data):
    """An empty export (docs/cdr.md#bad-rows), as a switch format's: was "not a readable CSV
    file: empty CSV", exit 2."""
    result = ingest_cdr(data, source="g.csv", cdr_format="generic", routing=ROUTING)
    assert (result.rows.height, result.rejects.height, result.total_rows) == (0, 0, 0)


def test_a_blank_row_in_a_generic_csv_is_no_call_and_no_reject():
    """polars reads a blank line (or a spreadsheet's empty row) under the header as a row of
    nulls: it was a reject ("number '': no number"). The other rows keep their lines; a row
    cut to the header's width with text past the cut is still refused."""
    data = (
        b"number,seconds,started_at\n"
        b"442079460001,60,2026-12-01 09:00:00\n"
        b"\n"
        b",,,\n"
        b" ,\t,\xc2\xa0\r\n"
        b"442079460005,60,2026-12-01 09:05:00\n"
        b"s,60,2026-12-01 09:06:00\n"
        b",,,x\n"
        b"\n"
    )
    assert generic_lines(data) == (
        [(2, "442079460001"), (6, "442079460005")],
        [
            (7, "number 's': letters are not allowed"),
            (8, "4 fields, the header has 3: a comma in an unquoted field?"),
        ],
    )


@pytest.mark.parametrize("body", [b"\n", b"\n\n", b",,\r\n,,,\r\n \n"])
def test_a_generic_csv_of_a_header_and_blank_rows_is_empty_not_refused(body):
    """Was: every row a reject, the file refused ("not one usable call")."""
    data = b"number,seconds,started_at\n" + body
    result = ingest_cdr(data, source="g.csv", cdr_format="generic", routing=ROUTING)
    assert (result.rows.height, result.rejects.height, result.total_rows) == (0, 0, 0)


def test_a_parquet_file_of_no_row_is_empty_not_refused():
    frame = pl.DataFrame(schema={"number": pl.String, "seconds": pl.Int64,
                                 "started_at": pl.Datetime("us")})  # fmt: skip
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    for data in (buffer.getvalue(), b""):
        result = ingest_cdr(data, source="g.parquet", cdr_format="generic", routing=ROUTING,
                            parquet=True)  # fmt: skip
        assert (result.rows.height, result.rejects.height, result.total_rows) == (0, 0, 0)


def test_generic_csv_with_a_column_mapping():
    data = (
        b"Called,Secs,When,Route,Id\n"
        b"+44 20 7946 0018,125,2026-12-01T09:15:00+01:00,021009,c-1\n"
        b"442079460099,0,2026-12-01 10:00:00,,c-2\n"
        b"442079460099,-3,2026-12-01 10:00:00,,c-3\n"
    )
    columns = GenericColumns("Called", "Secs", "When", tech_prefix="Route", call_id="Id")
    result = ingest_cdr(
        data, source="g.csv", cdr_format="generic", routing=ROUTING, columns=columns
    )
    rows = result.rows.to_dicts()
    assert [(r["call_id"], r["tech_prefix"], r["billable"]) for r in rows] == [
        ("c-1", "021009", True),
        ("c-2", "current", False),
    ]
    assert rows[0]["started_at"] == datetime(2026, 12, 1, 8, 15, tzinfo=UTC)
    assert rows[0]["duration_seconds"] is None
    # the header is line 1: the third data row is line 4
    assert result.rejects.select("row_number", "reason").rows() == [
        (4, "Secs '-3': expected whole seconds >= 0")
    ]


def test_a_number_copied_from_a_web_page_is_its_digits():
    """No-break, narrow and ideographic spaces separate; zero-width and bidi marks are dropped
    (phone.WHITESPACE, phone.INVISIBLE), as lookup, cost and the SQL macros read them."""
    numbers = [
        "+44\u00a020\u00a07946\u00a00018",
        "\u200e+44\u202f20\u200b7946\u30000018\u200f",
        "\ufeff0044 (0) 20\u20097946\u00ad0018",
    ]
    data = "Called,Secs,When\n" + "".join(f"{n},60,2026-12-01 10:00:00\n" for n in numbers)
    columns = GenericColumns("Called", "Secs", "When")
    result = ingest_cdr(
        data.encode(), source="g.csv", cdr_format="generic", routing=ROUTING, columns=columns
    )
    assert result.rejects.height == 0
    assert result.rows["number"].to_list() == ["442079460018"] * 3


def test_generic_parquet():
    frame = pl.DataFrame(
        {
            "number": ["442079460018", "00442079460099"],
            "seconds": [61, 30],
            "started_at": [datetime(2026, 12, 1, 9, 0), datetime(2026, 12, 2, 9, 0)],
        }
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    result = ingest_cdr(
        buffer.getvalue(), source="g.parquet", cdr_format="generic", routing=ROUTING, parquet=True
    )
    assert result.source_format == "generic-parquet"
    assert result.rows.select("row_number", "number", "billsec").rows() == [
        (1, "442079460018", 61),
        (2, "442079460099", 30),
    ]


def test_generic_file_without_a_mapped_column_names_it():
    with pytest.raises(UnrecognisedFormatError, match="no column 'seconds'.*has: number, secs"):
        ingest_cdr(
            b"number,secs,started_at\n4420,1,2026-12-01\n",
            source="g.csv",
            cdr_format="generic",
            routing=ROUTING,
        )


def test_a_file_of_another_format_is_refused_with_the_first_reason():
    with pytest.raises(NoValidRowsError, match=r"row 1: 15 field\(s\), expected at least 16"):
        ingest("freeswitch.csv", "asterisk")


MASTER_LINE = (
    '"","1001","021001442079460018","ctx","""A"" <1001>","SIP/a","SIP/b","Dial","{lastdata}",'
    '"{start}","","2026-12-01 09:17:09",129,125,"ANSWERED","DOCUMENTATION","{uniqueid}",""\n'
)


def master(lastdata="SIP/x,60", start="2026-12-01 09:15:00", uniqueid="1.1") -> bytes:
    return MASTER_LINE.format(lastdata=lastdata, start=start, uniqueid=uniqueid).encode()


def test_a_huge_field_is_read_not_a_crash():
    # Python's csv stops at 128 KiB fields (the row-by-row reader raised csv.Error)
    data = master() + master(lastdata="x" * 300_000, uniqueid="1.2")
    result = ingest_cdr(data, source="m", cdr_format="asterisk", routing=ROUTING)
    assert result.rows["call_id"].to_list() == ["1.1", "1.2"]


def test_a_huge_field_in_a_file_polars_cannot_read_is_one_clear_line():
    data = master() + master(lastdata="x" * 300_000) + b'"4420"x,unquoted"quote\n'
    with pytest.raises(UnrecognisedFormatError) as caught:
        ingest_cdr(data, source="m", cdr_format="asterisk", routing=ROUTING)
    assert str(caught.value).startswith("m: line 2: field larger than field limit")
    assert "\n" not in str(caught.value)


def test_a_start_time_past_the_calendar_is_a_reject_not_a_crash():
    # 9999-12-31 23:30 in New York is 10000-01-01 in UTC (astimezone raised OverflowError)
    data = master() + master(start="9999-12-31 23:30:00", uniqueid="1.2")
    result = ingest_cdr(
        data, source="m", cdr_format="asterisk", routing=ROUTING, timezone="America/New_York"
    )
    assert result.rejects.select("row_number", "reason").rows() == [
        (2, "start time '9999-12-31 23:30:00': out of range (1970-01-01 to 9999-12-30, UTC)")
    ]


@pytest.mark.parametrize(
    ("start", "accepted"),
    [
        ("1970-01-01 00:00:00", True),
        ("9999-12-30 23:59:59", True),
        ("1969-12-31 23:59:59", False),  # the fast path reads it: the range must hold there too
        ("9999-12-31 00:00:00", False),  # its UTC day has no day after: costing it crashed
        ("9999-12-31T01:00:00+02:00", True),  # 9999-12-30 23:00 UTC
        ("1970-01-01T01:00:00+02:00", False),  # 1969-12-31 23:00 UTC
        ("0001-01-01T00:00:00+05:00", False),
        ("1000-06-01 12:00:00", False),
    ],
)
def test_a_start_outside_the_supported_days_is_a_reject(start, accepted):
    data = f"number,seconds,started_at\n442079460001,60,2026-12-01 09:00:00\n4420,1,{start}\n"
    result = ingest_cdr(data.encode(), source="g", cdr_format="generic", routing=ROUTING)
    if accepted:
        assert result.rows.height == 2 and result.rejects.height == 0
    else:
        assert result.rejects.select("row_number", "reason").rows() == [
            (3, f"start time {start!r}: out of range (1970-01-01 to 9999-12-30, UTC)")
        ]


@pytest.mark.parametrize("text", ["²", "¹²", "①"])
def test_a_digit_int_refuses_is_a_reject_not_a_crash(text):
    # str.isdigit says yes to these, int() says no: the import crashed with a traceback
    with pytest.raises(BadField, match="expected whole seconds >= 0"):
        whole_seconds(text, "billsec")


def test_decimal_digits_of_other_scripts_stay_seconds():
    assert whole_seconds("٣٠", "billsec") == 30


def test_a_call_without_an_id_is_named_by_its_record_and_its_occurrence():
    line = (
        '"","1001","442079460001","ctx","","{chan}","{dst}","Dial","","2026-12-01 09:00:00","",'
        '"",63,60,"ANSWERED",""\n'
    )
    data = (
        line.format(chan="SIP/a-1", dst="SIP/b-1")
        + line.format(chan="SIP/a-1", dst="SIP/b-1")  # identical: its second occurrence
        # the same text if "|" were not escaped
        + line.format(chan="SIP/x|y", dst="z")
        + line.format(chan="SIP/x", dst="y|z")
    ).encode()
    result = ingest_cdr(data, source="m", cdr_format="asterisk", routing=ROUTING)
    start = "2026-12-01 09:00:00|"
    assert result.rows["call_id"].to_list() == [
        start + "SIP/a-1|SIP/b-1#1",
        start + "SIP/a-1|SIP/b-1#2",
        start + "SIP/x\\|y|z#1",
        start + "SIP/x|y\\|z#1",
    ]
    # the name releases before gave the call (start, dst, seconds, disposition, channel)
    former = start + "442079460001|63|60|ANSWERED|"
    assert result.rows["former_call_id"].to_list() == [
        former + "SIP/a-1#1",
        former + "SIP/a-1#2",
        former + "SIP/x\\|y#1",
        former + "SIP/x#1",
    ]
    # the raw start text, not the time read in [cdr] timezone
    in_kolkata = ingest_cdr(data, source="m", cdr_format="asterisk", routing=ROUTING,
                            timezone="Asia/Kolkata")  # fmt: skip
    assert in_kolkata.rows["call_id"].to_list() == result.rows["call_id"].to_list()


def test_identical_records_are_numbered_in_file_order_among_unique_ones():
    texts = pl.Series(["a", "b", "a", "c", "a", "b", "d"])
    assert record_keys(texts).to_list() == ["a#1", "b#1", "a#2", "c#1", "a#3", "b#2", "d#1"]
    assert record_keys(pl.Series(["x", "y"])).to_list() == ["x#1", "y#1"]


def test_generic_rejects_name_the_users_columns():
    data = (
        b"dst,talk,begin,plan\n"
        b"442079460001,60,2026-12-01 09:00:00,\n"
        b"442079460001,-3,2026-12-01 09:00:00,\n"
        b"442079460001,,2026-12-01 09:00:00,\n"
        b"44207946000x,60,2026-12-01 09:00:00,\n"
        b"442079460001,60,2026-12-01 09:00:00,p1\n"
        b"442079460001,61,2026-12-01 09:00:00,\n"
    )
    columns = GenericColumns("dst", "talk", "begin", tech_prefix="plan")
    result = ingest_cdr(data, source="g", cdr_format="generic", routing=ROUTING, columns=columns)
    assert result.rejects.select("row_number", "reason").rows() == [
        (3, "talk '-3': expected whole seconds >= 0"),
        (4, "talk: empty"),
        (5, "dst '44207946000x': letters are not allowed"),
        (6, "plan 'p1': must be 'current' or digits"),
    ]


def _parquet(seconds: pl.Series) -> bytes:
    frame = pl.DataFrame(
        {
            "dst": ["442079460018"] * len(seconds),
            "talk": seconds,
            "begin": [datetime(2026, 12, 1, 9, i) for i in range(len(seconds))],
        }
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "seconds",
    [
        # how pandas writes an integer column holding a NaN
        pl.Series([61.0, 0.0, 61.5, None, float("nan"), 1e20], dtype=pl.Float64),
        pl.Series(["61", "0", "61.5", None, None, "1E+20"], dtype=pl.String).cast(
            pl.Decimal(30, 1)
        ),
    ],
    ids=["float", "decimal"],
)
def test_parquet_seconds_written_as_whole_floats_or_decimals_are_seconds(seconds):
    columns = GenericColumns("dst", "talk", "begin")
    result = ingest_cdr(_parquet(seconds), source="g.parquet", cdr_format="generic",
                        routing=ROUTING, columns=columns, parquet=True)  # fmt: skip
    assert result.rows.select("row_number", "billsec", "billable").rows() == [
        (1, 61, True),
        (2, 0, False),
    ]
    reasons = result.rejects.select("row_number", "reason").rows()
    assert reasons[0] == (3, "talk '61.5': expected whole seconds >= 0")
    assert [row for row, _ in reasons] == [3, 4, 5, 6]
