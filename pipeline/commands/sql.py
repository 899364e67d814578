"""``ratedeck sql``: an analyst's SQL, read-only, on the published warehouse.

Input: ``QUERY`` and/or ``-f FILE`` (``-f -`` reads stdin); with both, QUERY runs first (e.g.
``SET VARIABLE prefix = '4420'`` before an example file). Several statements may be given; the
last one's result is the output.

Output: ``--format table`` (default; ``--json`` is ``--format json``) | ``csv`` | ``json`` |
``parquet`` on stdout, or into ``--out FILE`` (the format then follows the file's suffix unless
given; parquet needs ``--out``). Decimals are plain exact text (``0.00000000``, never ``0E-8``);
nested values, intervals and blobs read as DuckDB prints them; CSV and JSON stream in batches,
the table holds every row (see ``_shown_as``, ``Result.batches``).

What the SQL may do. It reads: the published warehouse (attached READ_ONLY) and any file the
analyst can read (``read_csv('calls.csv')``, ``read_parquet``...). It never writes: only queries
(SELECT, WITH, FROM, VALUES, SHOW, DESCRIBE, SUMMARIZE, PIVOT, UNPIVOT), EXPLAIN [ANALYZE] of a
query, and SET/RESET VARIABLE run. Anything else (COPY, EXPORT, ATTACH, DETACH, INSTALL, LOAD,
SET/RESET of a setting, USE, PRAGMA, CALL, CHECKPOINT, CREATE, INSERT, UPDATE, DELETE, DROP,
ALTER, transactions) is refused before any statement runs: one line, exit 2. DuckDB backs this up:
no extension is installed or loaded on demand and the configuration is locked, so no statement
can switch a safeguard off. Writing a result is ratedeck's job (``--out``), which refuses
ratedeck's own files and the input.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import io
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO, cast

import duckdb
from duckdb import SQLExpression
from duckdb.sqltypes import DuckDBPyType

from pipeline import console
from pipeline.durable import owned_temporary
from pipeline.errors import InputError, os_error_reason
from pipeline.settings import Settings
from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.errors import QueryError
from pipeline.warehouse.migrate import read_sql

# reads the warehouse and writes only files it has closed: no teardown needed (cli.entry)
QUICK_EXIT = True

FORMATS = ("table", "csv", "json", "parquet")
SUFFIX_FORMATS = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".txt": "table"}
BATCH_ROWS = 10_000  # rows held in Python at a time while JSON (or CSV, see below) is written
CSV_BATCH_ROWS = 100_000  # CSV lines (DuckDB's text) held at a time
PARQUET_BATCH_ROWS = 100_000  # rows held, and written as one row group, at a time
# The cell macros of queries/sql_csv_cells.sql for each type DuckDB writes as Python did; a
# result with any other type is written through Python (console.cell_text and csv), as before
_CSV_CELLS = {
    "varchar": "csv_text",
    "enum": "csv_text",
    "boolean": "csv_boolean",
    "float": "csv_double",
    "double": "csv_double",
    "date": "csv_date",
    "timestamp": "csv_timestamp",
    "timestamp with time zone": "csv_timestamptz",
    **dict.fromkeys(
        ("tinyint", "smallint", "integer", "bigint", "hugeint", "utinyint", "usmallint"),
        "csv_plain",
    ),
    **dict.fromkeys(("uinteger", "ubigint", "uhugeint", "decimal", "uuid", "null"), "csv_plain"),
}

# set on the analyst's connection before their SQL; the lock comes last and keeps them
LOCK_DOWN = (
    "SET autoinstall_known_extensions = false; "
    "SET autoload_known_extensions = false; "
    "SET lock_configuration = true"
)
# before the lock: Arrow batches keep UUID, HUGEINT, TIMETZ, BIT as DuckDB has them (Result)
STREAM_LOSSLESS = "SET arrow_lossless_conversion = true"
_RESULT_TYPES = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
_VARIABLE = re.compile(r"(?:SET|RESET)\s+VARIABLE\s", re.IGNORECASE)
_EXPLAINED = re.compile(
    r"EXPLAIN\s+(?:ANALY[SZ]E\s+)?(?:\([^)]*\)\s*)?(?P<inner>.*)", re.IGNORECASE | re.DOTALL
)
_PIVOTS = {"PIVOT", "UNPIVOT", "PIVOT_WIDER", "PIVOT_LONGER"}
ALLOWED = "queries, EXPLAIN and SET VARIABLE run; write a result with --out FILE"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", metavar="QUERY", nargs="?", help="SQL to run (see sql/examples/)")
    parser.add_argument(
        "-f",
        "--file",
        metavar="FILE",
        help="read SQL from FILE ('-' = stdin); runs after QUERY when both are given",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="output format (default: from --out's suffix, else table)",
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        type=Path,
        help="write the result to FILE instead of stdout (not a file ratedeck owns)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    output = output_format(args.format, args.out, json_flag=args.json)
    statements = read_statements(args.query, args.file)
    if args.out is not None:
        refuse_ratedeck_files(args.out, settings, source=args.file)
    with query_result(Warehouse(settings), statements, output) as result:
        if args.out is None:
            write_output(output, result, sys.stdout)
        elif output == "parquet":
            write_file(args.out, lambda path: _write_parquet(result, path, args.out))
        else:
            write_file(args.out, lambda path: _write_text_file(output, result, path))
    return 0


# -- input ---------------------------------------------------------------------------------


def read_statements(query: str | None, file: str | None) -> list[duckdb.Statement]:
    """The statements of QUERY then FILE, every one checked against the read-only policy."""
    if query is None and file is None:
        raise InputError("ratedeck sql: give a QUERY or -f FILE ('-f -' reads stdin)")
    statements = []
    if query is not None:
        statements += _parse(query, "QUERY")
    if file is not None:
        statements += _parse(_read_sql_file(file), "stdin" if file == "-" else file)
    check_read_only(statements)
    return statements


def check_read_only(statements: list[duckdb.Statement]) -> None:
    for number, statement in enumerate(statements, start=1):
        refusal = refusal_of(statement)
        if refusal:
            raise QueryError(
                f"ratedeck sql is read-only: statement {number} ({refusal}) refused; {ALLOWED}"
            )


def _read_sql_file(file: str) -> str:
    if file == "-":
        return sys.stdin.read()
    try:
        return Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"-f {file}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"-f {file}: cannot read: not UTF-8 text (byte {exc.start})") from None


def _parse(text: str, source: str) -> list[duckdb.Statement]:
    try:
        statements = duckdb.extract_statements(text)
    except duckdb.Error as exc:
        raise QueryError(f"SQL error in {source}: {_one_line(exc)}") from exc
    if not statements:
        raise QueryError(f"{source}: no SQL statement (empty, or only comments)")
    return statements


def refusal_of(statement: duckdb.Statement) -> str | None:
    """None if the statement only reads; otherwise what it is, for the refusal message."""
    keyword = _first_word(statement.query)
    kind = statement.type
    if kind == duckdb.StatementType.SELECT:
        return None
    if kind == duckdb.StatementType.MULTI and keyword in _PIVOTS:  # PIVOT: a query
        return None
    if kind == duckdb.StatementType.SET:
        return None if _VARIABLE.match(statement.query) else f"{keyword} of a setting"
    if kind == duckdb.StatementType.EXPLAIN:  # EXPLAIN ANALYZE runs what it explains
        inner = _EXPLAINED.match(statement.query)
        try:
            explained = duckdb.extract_statements(inner["inner"]) if inner else []
        except duckdb.Error:
            explained = []
        if not explained:
            return "EXPLAIN of something else than a query"
        refusals = [r for r in map(refusal_of, explained) if r]
        return f"EXPLAIN {refusals[0]}" if refusals else None
    return keyword


def _first_word(query: str) -> str:
    words = query.split(None, 1)
    return words[0].rstrip(";").upper() if words else ""


# -- running ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """The last statement's result: its columns and the relation that yields its rows (None
    when it returns none, e.g. only SET VARIABLE). Read it inside ``query_result``."""

    columns: list[str]
    types: list[DuckDBPyType]
    relation: duckdb.DuckDBPyRelation | None

    def batches(self) -> Iterator[list[tuple]]:
        """The rows, BATCH_ROWS at a time: only one batch is ever held, in the engine too (a
        relation's Python rows would be the whole result, held by the engine). Each batch of
        the Arrow stream becomes Python values through DuckDB again: exported losslessly
        (``STREAM_LOSSLESS``), they are the very values ``fetchall`` gives."""

        if self.relation is None:
            return
        with duckdb.connect() as converter:
            for batch in arrow_batches(self.relation, BATCH_ROWS):
                yield converter.from_arrow(batch).fetchall()

    def rows(self) -> list[tuple]:
        return [row for batch in self.batches() for row in batch]

    def csv_lines(self) -> duckdb.DuckDBPyRelation | None:
        """The rows as CSV lines made by DuckDB (one VARCHAR column, each line ending in a
        newline), the very text Python's csv module wrote of them; None when a column's type
        has no cell macro (``_CSV_CELLS``): those rows go through Python."""
        if self.relation is None:
            return None
        cells = [_CSV_CELLS.get(kind.id) for kind in self.types]
        if not all(cells):
            return None
        line = " || ',' || ".join(f"{cell}(#{i})" for i, cell in enumerate(cells, start=1))
        if len(cells) == 1:  # csv writes a row of one empty field as "" (not an empty line)
            line = f"CASE WHEN {line} = '' THEN '\"\"' ELSE {line} END"
        return self.relation.select(SQLExpression(f"{line} || chr(10)").alias("line"))


def arrow_batches(relation: duckdb.DuckDBPyRelation, rows: int) -> Iterator[Any]:
    """The relation's rows as Arrow record batches of at most ``rows``, one held at a time."""
    return arrow_batches_of(relation.to_arrow_reader(rows))


def arrow_batches_of(reader: Any) -> Iterator[Any]:
    """The batches of an Arrow reader of a query; the query failing on a later row (its
    error comes through Arrow) is a SQL error."""
    import pyarrow as pa

    try:
        yield from reader
    except pa.ArrowException as exc:
        raise QueryError(f"SQL error: {_one_line(exc)}") from exc


@contextmanager
def query_result(
    warehouse: Warehouse, statements: list[duckdb.Statement], output: str = "rows"
) -> Iterator[Result]:
    """Runs ``statements`` on the published warehouse, read-only (refused whole if one would
    write), and yields the last one's result with its columns in types ``output`` can hold
    (see ``_shown_as``). A DuckDB error, also one met while its rows are read, is one line."""
    check_read_only(statements)
    *before, last = statements
    with warehouse.reader() as con:
        try:
            if output != "parquet":  # Parquet takes Arrow's own types (UUID as text)
                con.execute(STREAM_LOSSLESS)
            if output == "csv":
                con.execute(read_sql("queries/sql_csv_cells.sql"))
            con.execute(LOCK_DOWN)
            for statement in before:
                con.execute(statement)
            if last.type not in _RESULT_TYPES and last.type != duckdb.StatementType.MULTI:
                con.execute(last)  # e.g. only SET VARIABLE
                yield Result([], [], None)
                return
            relation = _shown_as(con.sql(last.query), output)
            yield Result(relation.columns, relation.types, relation)
        except duckdb.Error as exc:
            raise QueryError(f"SQL error: {_one_line(exc)}") from exc


def run_query(warehouse: Warehouse, query: str | list[duckdb.Statement]) -> tuple[list[str], Any]:
    """Columns and rows of the last statement of ``query``, as Python values."""
    statements = read_statements(query, None) if isinstance(query, str) else query
    with query_result(warehouse, statements) as result:
        return result.columns, result.rows()


# Types each output cannot show as they come to Python (or pyarrow), made DuckDB's text
# (INTERVAL '1 day', TIMETZ '12:00:00+02', BIT '0101', BLOB '\x00ab'): in Python an INTERVAL
# of a month is 30 days, a TIMETZ loses its offset in Arrow, Parquet has no INTERVAL or UNION.
_TEXT_LEAVES = {
    "json": {"interval", "time with time zone", "bit", "blob"},
    "parquet": {"interval", "time with time zone", "bit", "bignum", "union"},
}
# nested values in a CSV or table cell read as DuckDB prints them: [1.10], {'k': 0.50}, {k=1}
_NESTED = {"list", "array", "struct", "map", "union"}
_TEXT_CELLS = _TEXT_LEAVES["json"] | _NESTED
# HUGEINT sums reach Parquet as decimal128(38, 0); the cast makes a value beyond it an error
# (pyarrow would write it as is, and a UHUGEINT above 2^127 as a negative number)
_WIDE_INTEGERS = {"hugeint", "uhugeint"}
_VARCHAR = duckdb.sqltype("VARCHAR")


def _shown_as(relation: duckdb.DuckDBPyRelation, output: str) -> duckdb.DuckDBPyRelation:
    """The relation with the columns ``output`` cannot hold as they are cast (by position:
    names may repeat) to a type it can; unchanged when every column can."""
    targets = [_target_type(t, output) for t in relation.types]
    if all(str(t) == str(o) for t, o in zip(targets, relation.types, strict=True)):
        return relation
    return relation.select(
        *(
            SQLExpression(f"#{i}").cast(t).alias(name)
            for i, (name, t) in enumerate(zip(relation.columns, targets, strict=True), start=1)
        )
    )


def _target_type(kind: DuckDBPyType, output: str) -> DuckDBPyType:
    if output in ("csv", "table"):
        return _VARCHAR if kind.id in _TEXT_CELLS else kind
    if output == "parquet" and kind.id in _WIDE_INTEGERS:
        return duckdb.decimal_type(38, 0)
    if kind.id in _TEXT_LEAVES.get(output, ()):
        return _VARCHAR
    parts = {name: part for name, part in kind.children} if kind.id in _NESTED else {}
    inner = {n: _target_type(p, output) for n, p in parts.items() if isinstance(p, DuckDBPyType)}
    if kind.id == "list":
        return duckdb.list_type(inner["child"])
    if kind.id == "array":
        return duckdb.array_type(inner["child"], int(cast(int, parts["size"])))
    if kind.id == "map":
        return duckdb.map_type(inner["key"], inner["value"])
    if kind.id == "struct":
        return duckdb.struct_type(inner)
    return kind


def _one_line(exc: Exception) -> str:
    """DuckDB's message without its multi-line source excerpt ("LINE 1: ... ^")."""
    kept = []
    for line in str(exc).splitlines():
        if line.startswith("LINE "):
            break
        if line.strip():
            kept.append(line.strip())
    return " ".join(kept) or type(exc).__name__


# -- output ----------------------------------------------------------------------------------


def output_format(chosen: str | None, out: Path | None, *, json_flag: bool) -> str:
    if json_flag:
        if chosen not in (None, "json"):
            raise InputError(f"--json and --format {chosen}: choose one")
        chosen = "json"
    if chosen is None and out is not None:
        chosen = SUFFIX_FORMATS.get(out.suffix.lower())
        if chosen is None:
            raise InputError(
                f"--out {out}: cannot tell the format from the suffix: add --format "
                f"({'|'.join(FORMATS)})"
            )
    chosen = chosen or "table"
    if chosen == "parquet" and out is None:
        raise InputError("--format parquet writes a binary file: add --out FILE")
    return chosen


def write_output(output: str, result: Result, stream: TextIO) -> None:
    """CSV and JSON stream a batch at a time; the table holds every row, to align them."""
    if output == "json":
        _write_json(result, stream)
    elif output == "csv":
        _write_csv(result, stream)
    elif result.columns:
        stream.write(console.format_table(result.columns, result.rows()) + "\n")


def _write_csv(result: Result, stream: TextIO) -> None:
    """The header, then the rows: as DuckDB's text lines when it can make them (bytes straight
    from each Arrow batch's buffer), else a Python row at a time."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(result.columns)
    lines = result.csv_lines()
    if lines is None:
        for batch in result.batches():
            writer.writerows([console.cell_text(v) for v in row] for row in batch)
        return
    write = _text_writer(stream)
    for batch in arrow_batches(lines, CSV_BATCH_ROWS):
        write(_joined_text(batch.column(0)))


def _text_writer(stream: TextIO):
    """A function writing UTF-8 bytes to ``stream``: to its binary buffer when it encodes UTF-8
    (stdout, a file), so the text is never decoded; else decoded, as text."""
    buffer = getattr(stream, "buffer", None)
    encoding = getattr(stream, "encoding", None) or ""
    if buffer is None or codecs.lookup(encoding).name != "utf-8":
        return lambda data: stream.write(bytes(data).decode("utf-8"))
    stream.flush()  # the header, written as text, goes first
    return buffer.write


def _joined_text(column) -> memoryview:
    """Every string of an Arrow string column, one after the other: the bytes of its data
    buffer between the first and the last offset (no copy)."""
    import pyarrow as pa

    if column.type != pa.string():
        column = column.cast(pa.large_string())
    width = 8 if column.type == pa.large_string() else 4
    offsets = memoryview(column.buffers()[1]).cast("B")
    start = column.offset * width
    first, last = (
        int.from_bytes(offsets[i : i + width], sys.byteorder, signed=True)
        for i in (start, start + len(column) * width)
    )
    return memoryview(column.buffers()[2])[first:last]


def _write_json(result: Result, stream: TextIO) -> None:
    """The document ``console.format_json`` makes of {"columns": ..., "rows": [...]}, written
    a batch of rows at a time."""
    columns = result.columns
    head = console.format_json({"columns": columns, "rows": []})
    opening, separator = head.removesuffix("[]\n}") + "[", ""
    for batch in result.batches():
        rows = [dict(zip(columns, map(_jsonable, row), strict=True)) for row in batch]
        # "[\n  {row},\n  {row}\n]" -> the rows one level deeper, as inside the document
        # (JSON text holds no raw newline inside a value)
        text = console.JSON_ENCODER.encode(rows)[1:-2].replace("\n", "\n  ")
        stream.write(opening + separator + text)
        opening, separator = "", ","
    stream.write(head + "\n" if separator == "" else "\n  ]\n}\n")


def _write_text_file(output: str, result: Result, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        write_output(output, result, stream)


def _write_parquet(result: Result, path: Path, out: Path) -> None:
    """The rows into Parquet a batch at a time (a row group each), in the types the whole
    result's Arrow table had."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if result.relation is None:
        raise InputError("the last statement returns no rows to write (e.g. only SET VARIABLE)")
    reader = result.relation.to_arrow_reader(PARQUET_BATCH_ROWS)
    try:
        with pq.ParquetWriter(path, reader.schema) as writer:
            for batch in arrow_batches_of(reader):
                writer.write_batch(batch)
    except (pa.ArrowException, ValueError) as exc:
        raise InputError(f"--out {out}: {_unwritable_column(result, reader.schema, exc)}") from None


def _unwritable_column(result: Result, schema, exc: Exception) -> str:
    """Which column Parquet refuses, and why, in one line."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    reason = _one_line(exc)
    for i, (name, kind) in enumerate(zip(result.columns, result.types, strict=True)):
        try:
            pq.write_table(schema.empty_table().select([i]), io.BytesIO())
        except (pa.ArrowException, ValueError):
            return f"cannot write column {name!r} ({kind}) to Parquet: {reason}"
    return f"cannot write the result to Parquet: {reason}"


def _jsonable(value: Any) -> Any:
    """Values console.print_json knows stay as they are (Decimal stays exact); others -> text."""
    if value is None or isinstance(value, bool | int | float | str | Decimal | datetime | date):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)  # time, timedelta, UUID, bytes, intervals...


def refuse_ratedeck_files(out: Path, settings: Settings, *, source: str | None) -> None:
    """--out must not overwrite what ratedeck owns (its data directory, the warehouse and the
    files beside it, the settings file) nor the SQL being run."""
    target = out.resolve()
    warehouse = Path(settings.warehouse_path).resolve()
    owned_dirs = [Path(settings.data_dir).resolve(), Path(settings.state_dir).resolve()]
    reason = None
    if target.is_dir():
        reason = "is a directory"
    elif any(target.is_relative_to(d) for d in owned_dirs):
        reason = f"inside ratedeck's data directory {settings.data_dir}"
    elif target.parent == warehouse.parent and target.name.startswith(warehouse.name):
        reason = "the warehouse (or a file beside it) is ratedeck's"
    elif source not in (None, "-") and target == Path(source).resolve():
        reason = "that is the SQL file being run"
    elif Path(settings.source).is_file() and target == Path(settings.source).resolve():
        reason = "that is the settings file"
    if reason:
        raise InputError(f"--out {out}: refused: {reason}")


def write_file(out: Path, write) -> None:
    """Write through a temporary file beside ``out`` and rename: never a half-written file.
    The temporaries of ``out`` that killed runs left are removed first."""
    try:
        with owned_temporary(out) as tmp:  # its removal's failure does not hide the write's
            write(tmp)
            os.replace(tmp, out)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write: {os_error_reason(exc)}") from None
