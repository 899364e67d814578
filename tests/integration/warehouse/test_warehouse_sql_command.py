"""`ratedeck sql QUERY [--json]` on the published warehouse, read-only."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from decimal import Decimal

import duckdb
import pyarrow.parquet as pq
import pytest

from pipeline import console
from pipeline.commands import sql as sql_command


@pytest.fixture
def cli(populated, sql_cli_on):
    return sql_cli_on(populated)


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


# -- types that Python, CSV or Parquet cannot show as they come -------------------------------

NESTED = (
    "SELECT [1.10::DECIMAL(4,2)] l, {'k': 0.5::DECIMAL(3,2)} st, INTERVAL 1 DAY i, "
    "INTERVAL 1 MONTH m, '\\x00ab'::BLOB b, MAP {'k': 1} mp, 1.50::DECIMAL(3,2) d"
)


def test_nested_values_read_as_duckdb_prints_them(cli):
    code, out, err = cli(NESTED, "--format", "csv")
    assert code == 0, err
    assert out == "l,st,i,m,b,mp,d\n[1.10],{'k': 0.50},1 day,1 month,\\x00ab,{k=1},1.50\n"
    code, out, _ = cli(NESTED)
    assert code == 0
    assert out.splitlines()[2].split("  ") == [
        "[1.10]", "{'k': 0.50}", "1 day", "1 month", "\\x00ab", "{k=1}", "1.50",
    ]  # fmt: skip
    code, out, _ = cli(NESTED, "--json")  # lists and structs stay JSON, decimals exact text
    assert json.loads(out)["rows"] == [
        {"l": ["1.10"], "st": {"k": "0.50"}, "i": "1 day", "m": "1 month", "b": "\\x00ab",
         "mp": {"k": 1}, "d": "1.50"}
    ]  # fmt: skip


def test_parquet_holds_every_type_pyarrow_alone_cannot(cli, tmp_path):
    out = tmp_path / "x.parquet"
    code, _, err = cli(
        "SELECT tech_prefix, now() - max(fetched_at) AS age FROM voice_snapshot GROUP BY 1",
        "--out",
        str(out),
    )
    assert code == 0, err
    assert str(pq.read_table(out).schema.field("age").type) == "string"
    code, _, err = cli(
        "SELECT INTERVAL 1 MONTH i, '12:00:00+02'::TIMETZ tz, '0101'::BIT bit, "
        "union_value(a := 1)::UNION(a INT, b VARCHAR) un, [INTERVAL 2 DAY] li, "
        "{'k': [0.5::DECIMAL(3,2)], 'i': INTERVAL 3 HOUR} st, 12345678901234567890123::HUGEINT h, "
        "12::UHUGEINT uh, '\\x00ab'::BLOB b, '8f6f3d2a-0c4b-4d1e-9a7e-2b1c3d4e5f60'::UUID u, "
        "MAP {'k': 1.5::DECIMAL(3,1)} m, 'x'::ENUM('x', 'y') e, [[1.10::DECIMAL(4,2)]] ll",
        "--out",
        str(out),
    )
    assert code == 0, err
    table = pq.read_table(out)
    assert table.to_pylist() == [
        {"i": "1 month", "tz": "12:00:00+02", "bit": "0101", "un": "1", "li": ["2 days"],
         "st": {"k": [Decimal("0.50")], "i": "03:00:00"},
         "h": Decimal("12345678901234567890123"), "uh": Decimal(12), "b": b"\x00ab",
         "u": "8f6f3d2a-0c4b-4d1e-9a7e-2b1c3d4e5f60", "m": [("k", Decimal("1.5"))], "e": "x",
         "ll": [[Decimal("1.10")]]}
    ]  # fmt: skip
    assert str(table.schema.field("ll").type) == "list<element: list<element: decimal128(4, 2)>>"
    assert str(table.schema.field("h").type) == "decimal128(38, 0)"


def test_parquet_refusing_a_column_is_one_line_naming_it(cli, tmp_path):
    out = tmp_path / "x.parquet"
    code, _, err = cli("SELECT 1 AS n, MAP {} AS m", "--out", str(out))
    assert code == 2 and not out.exists()
    assert err == (
        f'ratedeck: error: --out {out}: cannot write column \'m\' (MAP("NULL", "NULL")) to '
        "Parquet: NullType Arrow field must be nullable\n"
    )


# -- CSV and JSON a batch at a time -------------------------------------------------------------

MIXED = (
    "SELECT i, (i / 8)::DECIMAL(18, 8) AS price, CASE WHEN i % 3 = 0 THEN NULL ELSE 'a,\"b' || i "
    "END AS text, TIMESTAMPTZ '2026-12-01 10:00:00+00' + INTERVAL (i) HOUR AS at, "
    "[i::DECIMAL(4,1)] AS l FROM range(10) t(i) ORDER BY i"
)


def test_csv_and_json_are_written_a_batch_at_a_time(cli, populated, monkeypatch):
    """Ten rows in batches of three: the same output as the whole result rendered at once."""
    columns, rows = sql_command.run_query(populated, MIXED)
    monkeypatch.setattr(sql_command, "BATCH_ROWS", 3)
    with sql_command.query_result(populated, duckdb.extract_statements(MIXED), "csv") as result:
        assert [len(batch) for batch in result.batches()] == [3, 3, 3, 1]

    code, out, _ = cli(MIXED, "--json")
    assert code == 0
    document = {"columns": columns, "rows": [dict(zip(columns, r, strict=True)) for r in rows]}
    assert out == console.format_json(document) + "\n"
    assert json.loads(out)["rows"][1] == {
        "i": 1, "price": "0.12500000", "text": 'a,"b1', "at": "2026-12-01T11:00:00+00:00",
        "l": ["1.0"],
    }  # fmt: skip

    code, out, _ = cli(MIXED, "--format", "csv")
    assert code == 0
    assert out.splitlines()[:3] == [
        "i,price,text,at,l",
        "0,0.00000000,,2026-12-01 10:00:00+00:00,[0.0]",
        '1,0.12500000,"a,""b1",2026-12-01 11:00:00+00:00,[1.0]',
    ]
    assert len(out.splitlines()) == 11


def test_an_error_met_while_rows_are_written_is_a_sql_error(cli, tmp_path):
    out_file = tmp_path / "mine.csv"
    out_file.write_text("keep me\n")
    failing = "SELECT CASE WHEN i < 50 THEN i ELSE ('a' || i)::INT END v FROM range(60) t(i)"
    code, _, err = cli(failing, "--out", str(out_file))
    assert code == 2 and out_file.read_text() == "keep me\n"
    assert (
        err
        == "ratedeck: error: SQL error: Conversion Error: Could not convert string 'a50' to INT32\n"
    )
