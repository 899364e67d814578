"""`ratedeck sql QUERY [--json]` on the published warehouse, read-only."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from decimal import Decimal

import pyarrow.parquet as pq
import pytest

from pipeline import cli as ratedeck_cli


@pytest.fixture
def cli(populated, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)  # no ./ratedeck.toml
    monkeypatch.delenv("RATEDECK_CONFIG", raising=False)
    monkeypatch.setenv("RATEDECK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RATEDECK_WAREHOUSE", str(populated.published_path))
    # only this command: the real main() path without importing the other commands' modules
    monkeypatch.setattr(ratedeck_cli, "COMMANDS", {"sql": ratedeck_cli.COMMANDS["sql"]})

    def run(*argv: str) -> tuple[int, str, str]:
        code = ratedeck_cli.main(["sql", *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_prints_an_aligned_table(cli):
    code, out, err = cli(
        "SELECT prefix, price FROM voice_rate_current WHERE tech_prefix = 'current' ORDER BY prefix"
    )
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["prefix", "price"]
    assert [line.split() for line in lines[2:]] == [
        ["1", "0.01000000"],
        ["33", "0.03000000"],
        ["44", "0.12000000"],
        ["4420", "0.30000000"],
        ["49", "0.04000000"],
    ]


def test_json_keeps_decimals_exact(cli):
    code, out, _ = cli(
        "SELECT prefix, price, valid_to FROM voice_rate_current WHERE tech_prefix = '021001'",
        "--json",
    )
    assert code == 0
    assert json.loads(out) == {
        "columns": ["prefix", "price", "valid_to"],
        "rows": [{"prefix": "44", "price": "0.50000000", "valid_to": None}],
    }


def test_several_statements_print_the_last(cli):
    code, out, _ = cli("SET VARIABLE p = '49'; SELECT getvariable('p') AS p", "--json")
    assert code == 0 and json.loads(out)["rows"] == [{"p": "49"}]


def test_sql_error_is_one_line_exit_2(cli):
    code, out, err = cli("SELECT nope FROM voice_rate")
    assert code == 2 and out == ""
    assert err.startswith("ratedeck: error: SQL error: Binder Error")
    assert err.count("\n") == 1


def test_writing_is_refused(cli, populated):
    code, _, err = cli("DELETE FROM voice_rate")
    assert code == 2 and "read-only" in err
    with populated.reader() as con:
        assert con.execute("SELECT count(*) FROM voice_rate").fetchall()[0][0] > 0


def test_no_warehouse_yet(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("RATEDECK_WAREHOUSE", str(tmp_path / "missing.duckdb"))
    code, out, err = cli("SELECT 1")
    assert code == 2 and out == ""
    assert "no warehouse yet" in err and "ratedeck demo" in err


def test_warehouse_held_read_write_elsewhere_says_what_to_do(cli, populated, monkeypatch, tmp_path):
    """A SQL client that opened the published file read-write (no -readonly) locks it: DuckDB
    then refuses even a read-only open, from any other process."""
    published = tmp_path / "warehouse.duckdb"  # a copy: the shared one stays untouched
    shutil.copyfile(populated.published_path, published)
    monkeypatch.setenv("RATEDECK_WAREHOUSE", str(published))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_READ_WRITE, str(published)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        code, out, err = cli("SELECT 1")
    finally:
        holder.communicate("")  # its stdin closes: it lets go
    assert (code, out) == (1, "")
    assert err == (
        f"ratedeck: error: cannot open {published} read-only: another process "
        f"holds it open read-write (PID {holder.pid}), e.g. a SQL client not opened read-only: "
        "close it, or open it read-only (duckdb -readonly), then retry\n"
    )
    assert cli("SELECT 1")[0] == 0  # once it let go


HOLD_READ_WRITE = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("held", flush=True)
sys.stdin.read()
"""


# -- output formats, input from files ---------------------------------------------------------


def test_zero_decimals_are_plain_text_in_table_and_json(cli):
    query = "SELECT 0::DECIMAL(18, 8) AS z, price - price AS d FROM voice_rate_current LIMIT 1"
    code, out, _ = cli(query)
    assert code == 0 and out.splitlines()[2].split() == ["0.00000000", "0.00000000"]
    code, out, _ = cli(query, "--json")
    assert json.loads(out)["rows"] == [{"z": "0.00000000", "d": "0.00000000"}]


def test_text_columns_left_numbers_right(cli):
    """Prefixes are text (leading zeros matter) even when every one looks like a number."""
    code, out, _ = cli(
        "SELECT prefix, initial_seconds FROM voice_rate_current "
        "WHERE tech_prefix = 'current' AND prefix IN ('1', '4420') ORDER BY 1"
    )
    assert code == 0
    width = len("initial_seconds")
    assert out.splitlines()[2:] == [
        "1".ljust(6) + "  " + "60".rjust(width),
        "4420".ljust(6) + "  " + "60".rjust(width),
    ]


@pytest.mark.parametrize("query", ["", "   ", "-- only a comment", "/* c */ ;"])
def test_no_statement_is_a_one_line_error(cli, query):
    code, out, err = cli(query)
    assert (code, out) == (2, "")
    assert err.startswith("ratedeck: error: QUERY: no SQL statement") and err.count("\n") == 1


def test_neither_query_nor_file(cli):
    code, _, err = cli()
    assert code == 2 and "-f FILE" in err and err.count("\n") == 1


def test_sql_from_a_file_after_the_query(cli, tmp_path):
    (tmp_path / "q.sql").write_text(
        "-- the price of one prefix\nSELECT price FROM voice_rate_current\n"
        "WHERE tech_prefix = 'current' AND prefix = getvariable('p');\n"
    )
    code, out, _ = cli("SET VARIABLE p = '4420'", "-f", str(tmp_path / "q.sql"), "--json")
    assert code == 0 and json.loads(out)["rows"] == [{"price": "0.30000000"}]


def test_sql_from_stdin(cli, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("SELECT 42 AS answer"))
    code, out, _ = cli("-f", "-", "--json")
    assert code == 0 and json.loads(out)["rows"] == [{"answer": 42}]


def test_unreadable_sql_file(cli, tmp_path):
    code, _, err = cli("-f", str(tmp_path / "missing.sql"))
    assert code == 2 and "missing.sql: cannot read" in err and err.count("\n") == 1


def test_sql_file_that_is_not_utf8(cli, tmp_path):
    (tmp_path / "latin1.sql").write_bytes("SELECT 1 -- café\n".encode("latin-1"))
    code, _, err = cli("-f", str(tmp_path / "latin1.sql"))
    assert code == 2
    assert err.strip().endswith("latin1.sql: cannot read: not UTF-8 text (byte 15)")


PRICES = "SELECT prefix, price FROM voice_rate_current WHERE tech_prefix = 'current' ORDER BY 1"


def test_csv_on_stdout_is_exact(cli):
    code, out, _ = cli(PRICES, "--format", "csv")
    assert code == 0
    assert out.splitlines()[:3] == ["prefix,price", "1,0.01000000", "33,0.03000000"]


def test_out_file_format_from_its_suffix(cli, tmp_path):
    code, out, _ = cli(PRICES, "--out", str(tmp_path / "prices.csv"))
    assert (code, out) == (0, "")
    assert (tmp_path / "prices.csv").read_text().splitlines()[1] == "1,0.01000000"
    assert cli(PRICES, "--out", str(tmp_path / "prices.json"))[0] == 0
    assert json.loads((tmp_path / "prices.json").read_text())["rows"][0]["price"] == "0.01000000"


def test_parquet_keeps_exact_decimals(cli, tmp_path):
    code, _, err = cli(PRICES, "--format", "parquet", "--out", str(tmp_path / "p.parquet"))
    assert code == 0, err
    table = pq.read_table(tmp_path / "p.parquet")
    assert str(table.schema.field("price").type) == "decimal128(18, 8)"
    assert table.column("price").to_pylist()[:2] == [Decimal("0.01000000"), Decimal("0.03")]
    assert table.column("prefix").to_pylist()[:2] == ["1", "33"]


def test_parquet_needs_an_out_file(cli):
    code, out, err = cli(PRICES, "--format", "parquet")
    assert (code, out) == (2, "") and "--out FILE" in err


def test_unknown_out_suffix_asks_for_a_format(cli, tmp_path):
    code, _, err = cli(PRICES, "--out", str(tmp_path / "prices.xyz"))
    assert code == 2 and "--format" in err and not (tmp_path / "prices.xyz").exists()


def test_out_refuses_ratedeck_files_and_the_input(cli, populated, tmp_path):
    query_file = tmp_path / "q.sql"
    query_file.write_text(PRICES)
    published = populated.published_path
    data = tmp_path / "data"  # RATEDECK_DATA_DIR
    data.mkdir(exist_ok=True)
    targets = {
        published: "the warehouse",
        published.with_name(published.name + ".wal"): "the warehouse",
        data / "mine.csv": "data directory",
        data / "state" / "warehouse.duckdb": "data directory",
        query_file: "SQL file being run",
    }
    for target, reason in targets.items():
        before = target.read_bytes() if target.exists() else None
        code, out, err = cli("-f", str(query_file), "--format", "csv", "--out", str(target))
        assert (code, out) == (2, ""), target
        assert f"--out {target}: refused" in err and reason in err and err.count("\n") == 1
        assert (target.read_bytes() if target.exists() else None) == before


def test_a_failing_query_leaves_the_out_file_alone(cli, tmp_path):
    out_file = tmp_path / "mine.csv"
    out_file.write_text("keep me\n")
    code, _, _ = cli("SELECT nope FROM voice_rate", "--out", str(out_file))
    assert code == 2 and out_file.read_text() == "keep me\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".mine")] == []
