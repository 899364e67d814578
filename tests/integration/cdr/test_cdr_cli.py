"""``ratedeck cdr import / cost / status`` in-process (pipeline.cli.main): summaries, JSON,
and bad input as one line on stderr with exit 2."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from support.cdr import DAY, HISTORY, asterisk_line, insert_history, query, write_master

from pipeline import clock
from pipeline.cli import main
from pipeline.settings import load_settings

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "cdr" / "Master.csv"


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "ratedeck.toml"
    path.write_text(
        '[paths]\ndata_dir = "data"\n'  # relative: to the working directory
        '[voice]\ntech_prefixes = ["current", "021001"]\n'
        "[cdr]\nmax_reject_fraction = 0.5\n"
    )
    insert_history(load_settings(path, env={}), HISTORY)
    return path


def summary(*, added: int, repeats: int, conflicts: int, rejects: int) -> str:
    """The counts ``cdr import`` prints for a file."""
    return (
        f"{added} call(s) added, {repeats} already imported or repeated in the file, "
        f"{conflicts} conflicting (same call id, other values), {rejects} rejected"
    )


def ratedeck(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_cost_status(config, capsys, tmp_path):
    code, out, err = ratedeck(capsys, "--config", str(config), "cdr", "import", str(FIXTURE))
    assert code == 0
    assert summary(added=4, repeats=0, conflicts=0, rejects=2) in out
    assert "days 2026-12-01" in out
    assert "row 4: number 's': letters are not allowed" in err

    code, out, _ = ratedeck(capsys, "--config", str(config), "cdr", "import", str(FIXTURE))
    assert code == 0 and "imported before (file 1): nothing changed" in out

    code, out, _ = ratedeck(capsys, "--config", str(config), "--json", "cdr", "cost")
    assert code == 0
    [costing] = json.loads(out)["costings"]
    assert (costing["day"], costing["calls"], costing["recost"]) == ("2026-12-01", 2, False)

    code, out, _ = ratedeck(capsys, "--config", str(config), "--json", "cdr", "status")
    [day] = json.loads(out)["days"]
    assert (day["day"], day["calls"], day["billable"], day["costed"]) == ("2026-12-01", 4, 2, 2)


def test_import_counts_a_call_repeated_in_its_own_file_as_left_out(config, capsys, tmp_path):
    """The left-out count is calls already stored or repeated in the file itself: a file
    naming call a twice on one day, into an empty warehouse, adds 2 calls and leaves 1 out
    (the message once said "already imported", as though another file had brought it)."""
    lines = [asterisk_line("a", "35312345", DAY, 60)] * 2
    lines.append(asterisk_line("b", "35312346", DAY, 30))
    path = write_master(tmp_path / "repeat.csv", lines)
    code, out, _ = ratedeck(capsys, "--config", str(config), "cdr", "import", str(path))
    assert code == 0
    assert summary(added=2, repeats=1, conflicts=0, rejects=0) in out


def test_recost_needs_a_day_and_is_logged(config, capsys, tmp_path):
    path = write_master(tmp_path / "m.csv", [asterisk_line("a", "35312345", DAY, 60)])
    assert ratedeck(capsys, "--config", str(config), "cdr", "import", str(path))[0] == 0
    code, _, err = ratedeck(capsys, "--config", str(config), "cdr", "cost", "--recost")
    assert code == 2 and err.count("\n") == 1 and "give the --day" in err
    args = ["--config", str(config), "cdr", "cost", "--day", "2026-12-01", "--recost"]
    code, out, _ = ratedeck(capsys, *args, "--why", "deck corrected")
    assert code == 0 and "True" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("x,y\n", "not one usable call in 1 row(s) (row 1: 2 field(s), expected at least 16)"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(config, capsys, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_text(content)
    code, out, err = ratedeck(capsys, "--config", str(config), "cdr", "import", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err and str(path) in err


def test_too_many_bad_rows_names_the_file(config, capsys, tmp_path):
    later = DAY + timedelta(hours=1)
    lines = [asterisk_line("a", "35312345", later, 60)] + ["x\n"] * 3
    path = write_master(tmp_path / "many.csv", lines)
    code, _, err = ratedeck(capsys, "--config", str(config), "cdr", "import", str(path))
    assert code == 2 and err.startswith(f"ratedeck: error: {path}: ") and "3 of 4 rows" in err


def test_common_options_come_after_the_action_too(config, capsys):
    """``ratedeck cdr import FILE --config F --json``, as every other command takes them."""
    code, out, err = ratedeck(capsys, "cdr", "import", str(FIXTURE), "--config", str(config))
    assert code == 0, err
    assert "4 call(s) added" in out

    code, out, _ = ratedeck(capsys, "cdr", "status", "--json", "--config", str(config))
    assert code == 0
    [day] = json.loads(out)["days"]
    assert (day["day"], day["calls"]) == ("2026-12-01", 4)


def test_a_start_outside_the_supported_days_is_a_reject_and_costing_goes_on(
    config, capsys, tmp_path
):
    """9999-12-31 was accepted, then every `cdr cost` crashed (its day after does not exist)."""
    path = tmp_path / "calls.csv"
    path.write_text(
        "number,seconds,started_at\n"
        "442079460001,60,2026-12-01 09:00:00\n"
        "442079460001,60,9999-12-31 23:59:59\n"
        "442079460001,60,1969-12-31 23:59:59\n"
        "442079460001,61,2026-12-01 10:00:00\n"
        "442079460001,62,2026-12-01 11:00:00\n"
    )
    config.write_text(config.read_text() + 'format = "generic"\n')
    code, out, err = ratedeck(capsys, "--config", str(config), "cdr", "import", str(path))
    assert code == 0 and "3 call(s) added" in out and "2 rejected; days 2026-12-01 " in out
    assert "row 3: start time '9999-12-31 23:59:59': out of range" in err
    assert "row 4: start time '1969-12-31 23:59:59': out of range" in err
    code, out, _ = ratedeck(capsys, "--config", str(config), "--json", "cdr", "cost")
    assert code == 0
    assert [c["day"] for c in json.loads(out)["costings"]] == ["2026-12-01"]


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1969-12-31"])
def test_cost_of_a_day_no_call_can_have_is_one_line_and_exit_2(config, capsys, day):
    code, out, err = ratedeck(capsys, "--config", str(config), "cdr", "cost", "--day", day)
    assert (code, out) == (2, "")
    assert err == (
        f"ratedeck: error: day {day}: out of range (calls start from 1970-01-01 to "
        "9999-12-30, UTC)\n"
    )


def test_a_call_an_older_release_let_in_on_9999_12_31_no_longer_stops_costing(
    config, capsys, tmp_path
):
    from pipeline.warehouse.cdr import recount_days, uncosted_days
    from pipeline.warehouse.db import Warehouse

    ratedeck(capsys, "--config", str(config), "cdr", "import", str(FIXTURE))
    with Warehouse(load_settings(config, env={})).writer() as con:
        con.execute(
            "INSERT INTO cdr_call VALUES ('far', 1, 99, TIMESTAMPTZ '9999-12-31 23:59:59+00', "
            "DATE '9999-12-31', '4420', '4420', 'current', 61, 60, true, 'ANSWERED')"
        )
        last = date(9999, 12, 31)
        recount_days(con, last, last)  # counted, as migration 105 counts an older release's
        assert uncosted_days(con) == [date(2026, 12, 1), last]
    code, out, err = ratedeck(capsys, "--config", str(config), "--json", "cdr", "cost")
    assert (code, err) == (0, "")
    assert [c["day"] for c in json.loads(out)["costings"]] == ["2026-12-01"]


def test_a_corrected_call_is_refused_with_its_reason_and_the_stored_call_stands(
    config, capsys, tmp_path
):
    """A switch re-exports call a with 65 billed seconds where 60 are stored (and costed):
    the row is refused with what differs and where the stored call came from, counted apart
    from the repeats, kept in ingest_reject; the stored call and its cost stay as they were."""
    start = DAY + timedelta(hours=9)
    first = [asterisk_line("a", "35312345", start, 60), asterisk_line("b", "35312346", start, 30)]
    write_master(tmp_path / "Master.csv", first)
    assert ratedeck(capsys, "--config", str(config), "cdr", "import", "Master.csv")[0] == 0
    assert ratedeck(capsys, "--config", str(config), "cdr", "cost")[0] == 0
    costed = "SELECT call_id, billsec, cost FROM cdr_cost ORDER BY 1"
    before = _query(config, costed)

    corrected = [
        asterisk_line("b", "35312346", start, 30),  # a true repeat
        asterisk_line("a", "35312345", start, 65),  # the same call, other seconds
        asterisk_line("c", "35312347", start, 10),  # a new call
    ]
    path = write_master(tmp_path / "Master-corrected.csv", corrected)
    code, out, err = ratedeck(capsys, "--config", str(config), "cdr", "import", str(path))
    assert code == 0
    assert summary(added=1, repeats=1, conflicts=1, rejects=0) + "; days 2026-12-01" in out
    reason = (
        "call a is already stored with duration 63 s, 60 billed seconds (from Master.csv "
        "row 1); this file says duration 68 s, 65 billed seconds: the stored call stands"
    )
    assert err == f"  row 2: {reason}\n"
    assert _query(config, "SELECT call_id, billsec FROM cdr_call ORDER BY 1") == [
        ("a", 60),
        ("b", 30),
        ("c", 10),
    ]
    assert _query(config, costed) == before  # the costed day is not rewritten
    assert _query(config, "SELECT kind, snapshot_id, row_number, reason FROM ingest_reject") == [
        ("cdr", 2, 2, reason)
    ]
    assert _query(
        config,
        "SELECT row_count, duplicate_count, reject_count, conflict_count FROM cdr_file "
        "WHERE file_id = 2",
    ) == [(1, 1, 0, 1)]

    again = write_master(
        tmp_path / "again.csv", [*corrected, asterisk_line("d", "35312348", start, 1)]
    )
    code, out, _ = ratedeck(capsys, "--config", str(config), "--json", "cdr", "import", str(again))
    [imported] = json.loads(out)["files"]
    assert (imported["calls"], imported["duplicates"], imported["conflicts"]) == (1, 2, 1)
    assert imported["rejects_preview"] == [[2, reason]]


def _query(config: Path, sql: str) -> list[tuple]:
    return query(load_settings(config, env={}), sql)


@pytest.mark.parametrize("content", ["", "\n\n"], ids=["empty", "blank-lines"])
def test_an_empty_export_is_imported_and_says_it_holds_no_call(config, capsys, tmp_path, content):
    path = tmp_path / "quiet-day.csv"
    path.write_text(content)
    code, out, err = ratedeck(capsys, "--config", str(config), "cdr", "import", str(path))
    assert code == 0 and err == ""
    assert out.startswith(f"{path}: no call in the file (an empty export): nothing added -> raw/")
    assert _query(config, "SELECT row_count, reject_count FROM cdr_file") == [(0, 0)]


def test_calls_dated_after_today_are_imported_and_warned_of(config, capsys, tmp_path):
    """A switch whose clock runs ahead: its calls are stored and costed as they are, but the
    finance email's windows leave them out until their day, so the import says so."""
    tomorrow = DAY + timedelta(days=1)
    lines = [asterisk_line("a", "35312345", DAY, 60), asterisk_line("b", "35312345", tomorrow, 30)]
    path = write_master(tmp_path / "ahead.csv", lines)
    with clock.running_from(DAY + timedelta(hours=23)):  # today is 2026-12-01
        code, out, err = ratedeck(capsys, "--config", str(config), "cdr", "import", str(path))
    assert code == 0
    assert "days 2026-12-01, 2026-12-02 (after today) -> raw/" in out
    assert err == (
        "  warning: calls dated after today (2026-12-02): a clock running ahead? They are "
        "stored and `cdr cost` costs them, but the finance email's reconciliation and traffic "
        "windows leave them out until their day.\n"
    )
    again = write_master(tmp_path / "later.csv", [asterisk_line("c", "35312345", tomorrow, 5)])
    args = ("--config", str(config), "--json", "cdr", "import", str(again))
    with clock.running_from(tomorrow + timedelta(hours=1)):  # its day has come: no warning
        code, out, err = ratedeck(capsys, *args)
    assert (code, err) == (0, "")
    [imported] = json.loads(out)["files"]
    assert (imported["days"], imported["days_ahead"]) == (["2026-12-02"], [])


GENERIC_HEADER = "number,seconds,started_at\n"
CARRIER_HEADER = (
    "Call ID,Start Time (UTC),Tech Prefix,Destination Number,Destination,Prefix,Duration,"
    "Billed Seconds,Rate,Billing Increments,Cost,Currency\n"
)
HEADERS = {"generic": GENERIC_HEADER, "carrier": CARRIER_HEADER}


@pytest.mark.parametrize(
    "content",
    ["", "\n\n", "\ufeff", "{header}\n\n,,,\r\n"],
    ids=["empty", "blank-lines", "bom", "header-and-blank-rows"],
)
@pytest.mark.parametrize("kind", ["generic", "carrier"])
def test_an_empty_generic_file_or_carrier_export_is_imported_too(
    config, capsys, tmp_path, content, kind
):
    """As a switch format's (was: "not a readable CSV file: empty CSV", exit 2; a header with
    blank rows under it: each row a reject, the file refused)."""
    config.write_text(config.read_text() + 'format = "generic"\n')  # in [cdr]
    path = tmp_path / "quiet-day.csv"
    path.write_text(content.format(header=HEADERS[kind]), encoding="utf-8")
    carrier = ["--carrier"] if kind == "carrier" else []
    code, out, err = ratedeck(capsys, "--config", str(config), "cdr", "import", *carrier, str(path))
    assert code == 0 and err == ""
    assert out.startswith(f"{path}: no call in the file (an empty export): nothing added -> raw/")
    counts = {
        "carrier": "SELECT row_count, reject_count FROM carrier_file",
        "generic": "SELECT row_count, reject_count FROM cdr_file",
    }
    assert _query(config, counts[kind]) == [(0, 0)]


GOOD_ROWS = {
    "generic": "44207946000{n},60,2026-12-01 09:0{n}:00\n",
    "carrier": "k{n},2026-12-01 10:0{n}:00,,35387000000{n},Ireland - Fixed,353,60,60,0.05,1/1,"
    "0.05,USD\n",
}
BAD_ROWS = {  # (row, its reason)
    "generic": ("s,60,2026-12-01 09:09:00\n", "number 's': letters are not allowed"),
    "carrier": (
        "k9,2026-12-01 10:09:00,,353870000009,Ireland - Fixed,353,60,60,0.05,1/1,x,USD\n",
        "cost 'x': expected a decimal amount",
    ),
}


@pytest.mark.parametrize("kind", ["generic", "carrier"])
def test_a_blank_row_is_no_call_and_no_reject_the_next_bad_row_keeps_its_line(
    config, capsys, tmp_path, kind
):
    """A blank line and a spreadsheet's empty row (``,,,``) in a generic CSV or a carrier
    export were rejects (``number '': no number``): here 3 of 5 rows, the file refused."""
    config.write_text(config.read_text() + 'format = "generic"\n')  # in [cdr]
    good = GOOD_ROWS[kind]
    bad, reason = BAD_ROWS[kind]
    path = tmp_path / "day.csv"
    path.write_text(HEADERS[kind] + good.format(n=1) + "\n,,,\n" + good.format(n=2) + bad)
    carrier = ["--carrier"] if kind == "carrier" else []
    code, out, err = ratedeck(capsys, "--config", str(config), "cdr", "import", *carrier, str(path))
    assert code == 0
    assert summary(added=2, repeats=0, conflicts=0, rejects=1) in out
    assert err == f"  row 6: {reason}\n"
    assert _query(config, "SELECT kind, row_number FROM ingest_reject") == [
        ("cdr" if kind == "generic" else "carrier", 6)
    ]


def test_a_carrier_row_wider_than_the_header_is_a_reject_the_rest_imports(config, capsys, tmp_path):
    """One unquoted comma ("Korea, Republic of") refused the whole export, naming no line."""
    header = CARRIER_HEADER
    row = "k{n},2026-12-01 10:0{n}:00,,35387000000{n},Ireland - Fixed,353,60,60,0.05,1/1,0.05,USD\n"
    korea = "w1,2026-12-01 11:00:00,,82212345678,Korea, Republic of - Fixed,82,60,60,0.0122,1/1,"
    path = tmp_path / "theirs.csv"
    path.write_text(header + "".join(row.format(n=n) for n in range(4)) + korea + "0.0122,USD\n")
    code, out, err = ratedeck(
        capsys, "--config", str(config), "cdr", "import", "--carrier", str(path)
    )
    assert code == 0
    assert summary(added=4, repeats=0, conflicts=0, rejects=1) in out
    assert err == ("  row 6: 13 fields, the header has 12: a comma in an unquoted field?\n")
    assert _query(config, "SELECT count(*) FROM carrier_call") == [(4,)]
    assert _query(config, "SELECT kind, row_number FROM ingest_reject") == [("carrier", 6)]
