"""`ratedeck lookup` and `ratedeck cost` end to end on a warehouse in a temporary data dir."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from pipeline.cli import main
from pipeline.settings import load_settings


@pytest.fixture
def ratedeck(data_dir: Path, tmp_path: Path, monkeypatch, capsys):
    """Run the CLI in-process against ``data_dir``; returns (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RATEDECK_DATA_DIR", str(data_dir))

    def run(*argv: str) -> tuple[int, str, str]:
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_lookup_prints_a_table_and_the_cheapest(ratedeck):
    code, out, err = ratedeck("lookup", "+44 20 1234", "--duration", "61", "--at", "2026-03-01")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "number 44201234, 61 s call, at 2026-03-01 00:00:00 UTC"
    assert lines[3].split() == [
        "current",
        "4420",
        "London",
        "0.20000000",
        "60/60",
        "120",
        "0.400000",
    ]
    assert lines[4].split() == ["021001", "4420", "London", "0.30000000", "1/1", "61", "0.305000"]
    assert lines[5] == "cheapest: 021001 (4420 London) 0.305000 for 61 billed seconds"


def test_lookup_json_and_default_duration(ratedeck):
    code, out, _ = ratedeck("lookup", "4420", "--tech-prefix", "current", "--json")
    document = json.loads(out)
    assert code == 0
    seconds = load_settings().report.reference_call_seconds
    assert document["duration_s"] == seconds
    expected = (Decimal("0.25") * -(-seconds // 60) * 60 / 60).quantize(Decimal("0.000001"))
    assert [r["cost"] for r in document["results"]] == [str(expected)]  # 60/60 increments
    assert document["cheapest"]["tech_prefix"] == "current"


def test_lookup_unmatched_says_so(ratedeck):
    code, out, _ = ratedeck("lookup", "331234")
    assert code == 0
    assert "(no match)" in out
    assert out.splitlines()[-1] == "cheapest: none - no tech prefix has a rate for 331234"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("lookup", "44ABC"), "ratedeck: error: bad number '44ABC': letters are not allowed\n"),
        (("lookup", "44", "--tech-prefix", "999"), "no rates for tech prefix '999'"),
        (("lookup", "44", "--duration", "-5"), "expected whole seconds"),
        (("lookup", "44", "--duration", "²"), "expected whole seconds"),
        (("lookup", "44", "--at", "yesterday"), "expected an ISO date"),
    ],
)
def test_lookup_bad_input_is_one_line_exit_2(ratedeck, argv, message):
    code, out, err = ratedeck(*argv)
    assert code == 2
    assert out == ""
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_cost_csv_writes_output_rejects_and_summary(ratedeck, tmp_path):
    calls = tmp_path / "calls.csv"
    calls.write_text(
        "number,duration,started_at\n"
        "+44 20 123,61,2026-03-01\n"
        "004420123,61,2026-07-01\n"
        "33,5,\n"
        "44x,3,\n"
        "44,-1,2026-03-01\n"
    )
    code, out, err = ratedeck("cost", str(calls))
    assert code == 0
    costed = pl.read_csv(tmp_path / "calls.costed.csv", infer_schema=False)
    assert costed.columns == [
        "number",
        "duration",
        "started_at",
        "tech_prefix",
        "matched_prefix",
        "destination",
        "price",
        "billed_seconds",
        "cost",
    ]
    assert costed["number"].to_list() == ["+44 20 123"] * 2 + ["004420123"] * 2 + ["33"] * 2
    assert costed["cost"].to_list() == ["0.400000", "0.305000", "0.500000", "0.305000", None, None]
    rejects = pl.read_csv(tmp_path / "calls.costed.rejects.csv", infer_schema=False)
    assert rejects["row"].to_list() == ["4", "5"]
    assert "row 4: bad number '44x': letters are not allowed" in err
    assert "2 bad row(s) not costed" in err
    assert "cheapest mix: 0.610000 (021001 2)" in out
    assert out.splitlines()[-1] == f"wrote 6 rows to {tmp_path / 'calls.costed.csv'}"


def test_cost_parquet_in_and_out_with_json(ratedeck, tmp_path):
    source = tmp_path / "calls.parquet"
    pl.DataFrame({"number": ["44201"], "duration": [60]}).write_parquet(source)
    stale = tmp_path / "out.rejects.csv"
    stale.write_text("old")
    code, out, _ = ratedeck(
        "cost",
        str(source),
        "--out",
        str(tmp_path / "out.parquet"),
        "--tech-prefix",
        "021001",
        "--json",
    )
    document = json.loads(out)
    assert code == 0
    assert document["rejects"] is None and not stale.exists()
    assert document["summary"]["per_tech_prefix"][0]["cost"] == "0.300000"
    written = pl.read_parquet(tmp_path / "out.parquet")
    assert written["cost"].to_list() == [Decimal("0.300000")]


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        (None, (), "no such file"),
        ("number,seconds\n44,1\n", (), "found 'number', 'seconds'"),
        ("number,duration\n44x,1\n", (), "no call could be costed"),
        ("number,duration\n44,1\n", ("--out", "x.xlsx"), "use a .csv or .parquet"),
    ],
)
def test_cost_bad_input_exit_2(ratedeck, tmp_path, content, extra, message):
    calls = tmp_path / "in.csv"
    if content is not None:
        calls.write_text(content)
    code, _, err = ratedeck("cost", str(calls), *extra)
    assert code == 2
    assert message in err.splitlines()[-1]


def test_cost_in_small_batches_writes_the_same_files(ratedeck, tmp_path):
    calls = tmp_path / "calls.csv"
    calls.write_text(
        "number,duration,started_at\n"
        + "+44 20 123,61,2026-03-01\n44x,3,\n004420123,61,2026-07-01\n33,5,\n44,-1,\n" * 3
    )
    assert ratedeck("cost", str(calls), "--out", str(tmp_path / "whole.csv"))[0] == 0
    (tmp_path / "ratedeck.toml").write_text("[report]\ncost_batch_rows = 4\n")  # in the cwd
    code, out, err = ratedeck("cost", str(calls), "--out", str(tmp_path / "batched.csv"))
    assert code == 0
    assert (tmp_path / "batched.csv").read_text() == (tmp_path / "whole.csv").read_text()
    rejects = (tmp_path / "batched.rejects.csv").read_text()
    assert rejects == (tmp_path / "whole.rejects.csv").read_text()
    rows = [line.split(",")[0] for line in rejects.splitlines()]
    assert rows == ["row", "2", "5", "7", "10", "12", "15"]
    assert "6 bad row(s) not costed" in err and "... and 1 more" in err
    assert "wrote 18 rows" in out
    code, _, _ = ratedeck(
        "cost", str(calls), "--out", str(tmp_path / "b1.csv"), "--batch-rows", "1"
    )
    assert (tmp_path / "b1.csv").read_text() == (tmp_path / "whole.csv").read_text()


def test_cost_batch_rows_must_be_positive(ratedeck, tmp_path):
    calls = tmp_path / "calls.csv"
    calls.write_text("number,duration\n44,1\n")
    code, _, err = ratedeck("cost", str(calls), "--batch-rows", "0")
    assert code == 2
    assert "expected a whole number >= 1, got '0'" in err
