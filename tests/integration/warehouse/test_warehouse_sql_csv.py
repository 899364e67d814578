"""`ratedeck sql --format csv` writes its lines in DuckDB (the cell macros of
queries/sql_csv_cells.sql), not a Python row at a time: the same bytes as the Python path
(``console.cell_text`` and the csv module, still used for a type without a macro), checked
on edge values of every type that takes the fast path. `--out x.parquet` is written a batch at
a time, in the same types."""

from __future__ import annotations

import random

import duckdb
import pyarrow.parquet as pq
import pytest

from pipeline import console
from pipeline.commands import sql as sql_command
from pipeline.warehouse.migrate import read_sql

STRINGS = ["", "plain", "a,b", 'say "hi"', "two\nlines", "cr\ronly", " lead", "é ü 中", ",", '"']


def edge_strings(count: int) -> list[str]:
    alphabet = 'ab ,"\n\r\té中-'
    rng = random.Random(7)
    return STRINGS + ["".join(rng.choices(alphabet, k=rng.randint(0, 6))) for _ in range(count)]


@pytest.fixture
def cells(tmp_path):
    """cells.parquet in tmp_path (the cli's working folder): a Parquet file of edge values, a row each, every type the fast path writes (and NULLs)."""
    path = tmp_path / "cells.parquet"
    strings = edge_strings(300)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(
            """
            COPY (
            SELECT i, s, (i % 3 = 0) AS flag, (i % 100)::TINYINT AS tiny,
                   (i * 7919 - 1000000)::BIGINT AS big,
                   i::UBIGINT AS ubig,
                   (((i * 7919) % 100000 - 50000) / 1000)::DECIMAL(18, 8) AS price,
                   ((i * 37) % 1000 - 500)::DECIMAL(38, 0) AS whole,
                   [0.1, 1e16, 1e-5, 1e22, -0.0, 'inf'::DOUBLE, '-inf'::DOUBLE, 'nan'::DOUBLE,
                    123456789012345.0, 2.5e-7, 1.0][i % 11 + 1] * (i + 1) AS dbl,
                   (i / 7)::FLOAT AS flt,
                   (DATE '0099-01-02' + INTERVAL (i * 11000) DAY)::DATE AS day,
                   TIMESTAMP '1900-01-01 00:00:00' + INTERVAL (i * 9876543210) MILLISECOND AS ts,
                   TIMESTAMPTZ '2026-12-01 10:00:00+00' + INTERVAL (i * 1234567) MICROSECOND
                       AS tstz
            FROM (SELECT unnest(?) AS s, generate_subscripts(?, 1) - 1 AS i)
            ) TO '{path}' (FORMAT parquet)
            """.replace("{path}", str(path)),
            [strings, strings],
        )
    return path


@pytest.fixture
def cli(populated, sql_cli_on):
    """``ratedeck sql ARGS`` on the populated warehouse: its stdout (it must succeed)."""
    run = sql_cli_on(populated)

    def succeeded(*argv: str) -> str:
        code, out, err = run(*argv)
        assert code == 0, err
        return out

    return succeeded


def through_python(monkeypatch, run, *argv: str) -> str:
    """The output of the Python path: no type has a cell macro."""
    with monkeypatch.context() as patch:
        patch.setattr(sql_command, "_CSV_CELLS", {})
        return run(*argv)


def rows_never_reach_python(monkeypatch) -> None:
    def refused(self):
        raise AssertionError("the CSV rows went through Python")

    monkeypatch.setattr(sql_command.Result, "batches", refused)


# the cells, with types Parquet does not keep (HUGEINT is read back as DOUBLE, ENUM as VARCHAR)
EVERY_TYPE = (
    "SELECT *, (i - 150)::HUGEINT * 100000000000000000000::HUGEINT AS huge, i::UHUGEINT AS uhuge, "
    "'x'::ENUM('x', 'y') AS e, '8f6f3d2a-0c4b-4d1e-9a7e-2b1c3d4e5f60'::UUID AS u, NULL AS n "
    "FROM read_parquet('cells.parquet') ORDER BY i"  # in the working folder
)
FAST_TYPES = {
    "BOOLEAN", "TINYINT", "BIGINT", "UBIGINT", "HUGEINT", "UHUGEINT", "DECIMAL(18,8)",
    "DECIMAL(38,0)", "DOUBLE", "FLOAT", "DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "VARCHAR",
    "ENUM('x', 'y')", "UUID", '"NULL"',
}  # fmt: skip


def test_csv_lines_are_the_bytes_python_wrote(cli, cells, monkeypatch, tmp_path):
    query = EVERY_TYPE
    assert {str(kind) for kind in duckdb.sql(query).types} == FAST_TYPES
    expected = through_python(monkeypatch, cli, query, "--format", "csv")
    assert expected.count("\n") > 310  # quoted newlines on top of a line per row
    monkeypatch.setattr(sql_command, "CSV_BATCH_ROWS", 7)  # lines across many Arrow batches
    rows_never_reach_python(monkeypatch)
    assert cli(query, "--format", "csv") == expected
    cli(query, "--out", str(tmp_path / "cells.csv"))
    assert (tmp_path / "cells.csv").read_bytes() == expected.encode("utf-8")


def test_one_column_of_empty_text_is_quoted_as_python_did(cli, monkeypatch):
    query = "SELECT s FROM (VALUES (''), (NULL), ('a'), ('a,b')) t(s)"
    expected = through_python(monkeypatch, cli, query, "--format", "csv")
    assert expected == 's\n""\n""\na\n"a,b"\n'
    rows_never_reach_python(monkeypatch)
    assert cli(query, "--format", "csv") == expected


def test_a_type_without_a_cell_macro_goes_through_python(cli):
    out = cli("SELECT TIME '12:00:00.5' AS t, 1.50::DECIMAL(3, 2) AS d", "--format", "csv")
    assert out == "t,d\n12:00:00.500000,1.50\n"


def test_parquet_is_written_a_batch_at_a_time_in_the_same_types(cli, cells, monkeypatch, tmp_path):
    query = (  # NaN is not equal to itself: compared apart, in the CSV test
        "SELECT * REPLACE (CASE WHEN isnan(dbl) THEN NULL ELSE dbl END AS dbl) "
        "FROM read_parquet('cells.parquet') ORDER BY i"
    )
    whole = duckdb.sql(query).to_arrow_table()
    monkeypatch.setattr(sql_command, "PARQUET_BATCH_ROWS", 100)
    cli(query, "--out", str(tmp_path / "out.parquet"))
    written = pq.ParquetFile(tmp_path / "out.parquet")
    assert written.metadata.num_row_groups == 4  # 310 rows, 100 at a time
    assert written.schema_arrow == whole.schema
    assert written.read().to_pylist() == whole.to_pylist()


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/St_Johns", "Europe/Dublin"])
def test_timestamptz_cells_in_any_session_time_zone(zone):
    """A TIMESTAMPTZ reads in the session's time zone, as Python received it (DuckDB converts
    it with pytz), 1972-2037: before, pytz rounds old offsets to minutes; after, it has no
    daylight saving time (the ICU text is right there, Python's was not)."""
    with duckdb.connect() as con:
        con.execute(read_sql("queries/sql_csv_cells.sql"))
        con.execute(f"SET TimeZone = '{zone}'")
        moments = con.sql(
            "SELECT make_timestamp(m)::TIMESTAMPTZ AS v "
            "FROM range(63072000000000, 2145916800000000, 3333333333337) t(m)"
        )
        pairs = moments.select("v, csv_timestamptz(v)").fetchall()
    assert len(pairs) > 600
    assert [text for _, text in pairs] == [console.cell_text(value) for value, _ in pairs]
