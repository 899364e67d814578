"""``ratedeck sql``: an analyst's SQL, read-only, on the published warehouse.

Input: ``QUERY`` and/or ``-f FILE`` (``-f -`` reads stdin); with both, QUERY runs first (e.g.
``SET VARIABLE prefix = '4420'`` before an example file). Several statements may be given; the
last one's result is the output.

Output: ``--format table`` (default; ``--json`` is ``--format json``) | ``csv`` | ``json`` |
``parquet`` on stdout, or into ``--out FILE`` (the format then follows the file's suffix unless
given; parquet needs ``--out``). Decimals are plain exact text (``0.00000000``, never ``0E-8``).

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
import csv
import io
import os
import re
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from pipeline import console
from pipeline.durable import owned_temporary
from pipeline.errors import InputError, os_error_reason
from pipeline.settings import Settings
from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.errors import QueryError

# reads the warehouse and writes only files it has closed: no teardown needed (cli.entry)
QUICK_EXIT = True

FORMATS = ("table", "csv", "json", "parquet")
SUFFIX_FORMATS = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".txt": "table"}

# set on the analyst's connection before their SQL; the lock comes last and keeps them
LOCK_DOWN = (
    "SET autoinstall_known_extensions = false; "
    "SET autoload_known_extensions = false; "
    "SET lock_configuration = true"
)
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
    if output == "parquet":
        columns, table = run_query(Warehouse(settings), statements, arrow=True)
        write_file(args.out, lambda path: _write_parquet(columns, table, path))
        return 0
    columns, rows = run_query(Warehouse(settings), statements)
    text = render(output, columns, rows)
    if args.out is None:
        sys.stdout.write(text)
    else:
        write_file(args.out, lambda path: path.write_text(text, encoding="utf-8"))
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


def run_query(
    warehouse: Warehouse, query: str | list[duckdb.Statement], *, arrow: bool = False
) -> tuple[list[str], Any]:
    """Columns and rows (a pyarrow Table with ``arrow``) of the last statement of ``query``
    on the published warehouse: read-only, and refused whole if a statement would write."""
    if isinstance(query, str):
        statements = read_statements(query, None)
    else:
        statements = query
        check_read_only(statements)
    *before, last = statements
    with warehouse.reader() as con:
        try:
            con.execute(LOCK_DOWN)
            for statement in before:
                con.execute(statement)
            if last.type not in _RESULT_TYPES and last.type != duckdb.StatementType.MULTI:
                con.execute(last)  # e.g. only SET VARIABLE
                return [], (None if arrow else [])
            relation = con.sql(last.query)
            if arrow:
                return relation.columns, relation.to_arrow_table()
            return relation.columns, relation.fetchall()
        except duckdb.Error as exc:
            raise QueryError(f"SQL error: {_one_line(exc)}") from exc


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


def render(output: str, columns: list[str], rows: list[tuple]) -> str:
    if output == "json":
        document = {
            "columns": columns,
            "rows": [dict(zip(columns, map(_jsonable, r), strict=True)) for r in rows],
        }
        return console.format_json(document) + "\n"
    if output == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([console.cell_text(v) for v in row] for row in rows)
        return buffer.getvalue()
    return console.format_table(columns, rows) + "\n" if columns else ""


def _write_parquet(columns: list[str], table, path: Path) -> None:
    import pyarrow.parquet as pq

    if table is None:
        raise InputError("the last statement returns no rows to write (e.g. only SET VARIABLE)")
    pq.write_table(table, path)


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
