"""``cost``, ``diff``, ``--version`` and ``emulator``: mistakes a user makes are one line, exit 2,
and name what is wrong (issue 13 item 11); nothing the user wrote is overwritten."""

from __future__ import annotations

import json
import logging
import socket
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from pipeline.cli import main

CALLS = "number,duration\n4420123,61\n"


@pytest.fixture
def ratedeck(data_dir: Path, tmp_path: Path, monkeypatch, capsys):
    """The CLI in-process against ``data_dir``; returns (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RATEDECK_DATA_DIR", str(data_dir))

    def run(*argv: str) -> tuple[int, str, str]:
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse: usage errors, --version
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_cost_refuses_to_overwrite_its_input(ratedeck, tmp_path):
    calls = tmp_path / "calls.csv"
    calls.write_text(CALLS)
    code, out, err = ratedeck("cost", str(calls), "--out", str(calls))
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"ratedeck: error: --out {calls}: would overwrite the input {calls}; choose another name"
    ]
    assert calls.read_text() == CALLS


def test_cost_refuses_an_output_whose_rejects_file_would_be_the_input(ratedeck, tmp_path):
    calls = tmp_path / "x.rejects.csv"
    calls.write_text(CALLS)
    code, _, err = ratedeck("cost", str(calls), "--out", str(tmp_path / "x.csv"))
    assert code == 2 and "would overwrite the input" in err
    assert calls.read_text() == CALLS


def test_cost_refuses_an_output_folder_that_does_not_exist(ratedeck, tmp_path):
    calls = tmp_path / "calls.csv"
    calls.write_text(CALLS)
    out = tmp_path / "no" / "such" / "costed.csv"
    code, _, err = ratedeck("cost", str(calls), "--out", str(out))
    assert code == 2
    assert err.splitlines() == [
        f"ratedeck: error: --out {out}: folder {out.parent} does not exist (create it first)"
    ]
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_cost_of_a_file_without_calls_exits_2_and_leaves_the_output_alone(
    ratedeck, tmp_path, suffix
):
    calls = tmp_path / f"header{suffix}"
    empty = pl.DataFrame(schema={"number": pl.String, "duration": pl.String})
    empty.write_csv(calls) if suffix == ".csv" else empty.write_parquet(calls)
    out, rejects = tmp_path / "k.csv", tmp_path / "k.rejects.csv"
    out.write_text("an earlier costing\n")
    rejects.write_text("its rejects\n")
    code, stdout, err = ratedeck("cost", str(calls), "--out", str(out))
    assert (code, stdout) == (2, "")
    assert err.splitlines() == [f"ratedeck: error: {calls}: no calls (only a header)"]
    assert (out.read_text(), rejects.read_text()) == ("an earlier costing\n", "its rejects\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == [calls.name, "k.csv", "k.rejects.csv"]


def test_cost_names_the_columns_it_found(ratedeck, tmp_path):
    calls = tmp_path / "calls.csv"
    calls.write_text("phone,seconds\n4420123,61\n")
    code, _, err = ratedeck("cost", str(calls))
    assert code == 2
    assert err.splitlines() == [
        f"ratedeck: error: {calls}: expected columns number and duration (optionally "
        "started_at); found 'phone', 'seconds'"
    ]


def test_cost_reads_semicolon_files_with_capitalised_headers(ratedeck, tmp_path):
    calls = tmp_path / "calls.csv"
    calls.write_text("Number;Duration\n4420123;61\n0044 20 79 1234;30\n")
    code, _, err = ratedeck("cost", str(calls), "--tech-prefix", "current")
    assert code == 0, err
    costed = pl.read_csv(tmp_path / "calls.costed.csv", infer_schema=False)
    assert costed["number"].to_list() == ["4420123", "0044 20 79 1234"]
    assert costed["matched_prefix"].to_list() == ["4420", "442079"]
    assert costed["cost"].to_list() == ["0.500000", "0.150000"]


def test_cost_says_a_folder_is_a_folder(ratedeck, tmp_path):
    folder = tmp_path / "calls.csv"
    folder.mkdir()
    code, _, err = ratedeck("cost", str(folder))
    assert code == 2
    assert err.splitlines() == [f"ratedeck: error: {folder}: is a folder, not a file of calls"]


def test_diff_refuses_an_unknown_tech_prefix_like_lookup(ratedeck):
    code, out, err = ratedeck("diff", "--tech-prefix", "99999")
    assert (code, out) == (2, "")
    expected = (
        "ratedeck: error: no rates for tech prefix '99999' in the warehouse "
        "(it has: current, 021001)"
    )
    assert err.splitlines() == [expected]
    assert ratedeck("lookup", "4420", "--tech-prefix", "99999")[2].splitlines() == [expected]


def test_version_comes_from_the_package_metadata(ratedeck):
    from importlib.metadata import version

    code, out, err = ratedeck("--version")
    assert (code, out, err) == (0, f"ratedeck {version('ratedeck')}\n", "")


def test_emulator_on_a_busy_port_is_one_line_exit_2(ratedeck):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out, err = ratedeck("emulator", "--port", str(port))
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"ratedeck: error: --port {port}: cannot listen on 127.0.0.1:{port}: Address already in "
        "use (another port, or --port 0 for a free one)"
    ]
    # nothing left behind in this process: a handler bound to this test's captured stderr
    # made every later emulator request in the process log "I/O operation on closed file"
    server_log = logging.getLogger("pipeline.emulator.server")
    assert (server_log.handlers, server_log.level, server_log.propagate) == ([], 0, True)


@pytest.mark.parametrize(
    ("command", "option", "moment"),
    [
        ("lookup", "--at", "0001-01-01T00:00:00+05:00"),  # year 0 in UTC
        ("lookup", "--at", "9999-12-31T23:59:59-05:00"),  # year 10000 in UTC
        ("diff", "--since", "0001-01-01T00:00:00+05:00"),
        ("diff", "--since", "9999-12-31T23:59:59-05:00"),
    ],
)
def test_a_moment_out_of_range_is_one_line_exit_2(ratedeck, command, option, moment):
    argv = (
        (command, "4420123", option, moment) if command == "lookup" else (command, option, moment)
    )
    code, out, err = ratedeck(*argv)
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"ratedeck: error: {option} '{moment}': out of range: moments from "
        "0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z are supported"
    ]


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999z"])
def test_the_first_and_last_moments_are_answered(ratedeck, moment):
    code, out, err = ratedeck("lookup", "4420123", "--at", moment, "--tech-prefix", "current")
    assert (code, err) == (0, "")
    first = "0001-01-01 00:00:00" if moment.startswith("0001") else "9999-12-31 23:59:59"
    assert out.splitlines()[0] == f"number 4420123, 150 s call, at {first} UTC"
    assert ratedeck("diff", "--since", moment)[:3:2] == (0, "")


def _cost_on_current(ratedeck, folder: Path, text: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``ratedeck cost`` of a CSV holding ``text`` on tech prefix current: (costed, rejects)."""
    calls = folder / "calls.csv"
    calls.write_text(text)
    code, _, err = ratedeck("cost", str(calls), "--tech-prefix", "current")
    assert code == 0, err
    costed = pl.read_csv(folder / "calls.costed.csv", infer_schema=False)
    return costed, pl.read_csv(folder / "calls.costed.rejects.csv", infer_schema=False)


def test_cost_rejects_a_start_time_out_of_range_and_costs_the_rest(ratedeck, tmp_path):
    costed, rejects = _cost_on_current(
        ratedeck,
        tmp_path,
        "number,duration,started_at\n4420123,61,2026-03-01\n4420123,61,0001-01-01T00:00:00+05:00\n",
    )
    assert costed["cost"].to_list() == ["0.400000"]
    assert rejects.select("row", "reason").rows() == [
        (
            "2",
            "started_at 0001-01-01T00:00:00+05:00 is out of range: moments from "
            "0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z are supported",
        )
    ]


def test_lookup_and_cost_agree_on_the_longest_call(ratedeck, tmp_path):
    costed, rejects = _cost_on_current(
        ratedeck,
        tmp_path,
        "number,duration\n4420123,999999999\n4420123,1000000000\n4420123,9223372036854775807\n",
    )
    assert rejects.select("row", "reason").rows() == [
        ("2", "duration 1000000000 is too large: at most 999,999,999 seconds"),
        ("3", "duration 9223372036854775807 is too large: at most 999,999,999 seconds"),
    ]
    code, out, err = ratedeck(
        "lookup", "4420123", "--tech-prefix", "current", "--duration", "999999999", "--json"
    )
    assert (code, err) == (0, "")
    [found] = json.loads(out)["results"]
    longest = Decimal("4166666.750000")  # 1,000,000,020 billed seconds (60/60) at 0.25 a minute
    assert Decimal(str(found["cost"])) == Decimal(costed["cost"][0]) == longest
    for too_long in ("1000000000", "100000000000000"):
        code, out, err = ratedeck("lookup", "4420123", "--duration", too_long)
        assert (code, out) == (2, "")
        assert err.splitlines() == [
            f"ratedeck: error: argument --duration: '{too_long}' is too large: at most "
            "999,999,999 seconds (as in cost)"
        ]
