"""``ratedeck sql QUERY``: SQL against a read-only connection to the published warehouse.

Prints an aligned table (or, with ``--json``, one document ``{"columns": [...], "rows":
[{column: value}, ...]}``). Several statements may be given; the last one's result is printed
(e.g. ``SET VARIABLE tech_prefix = 'current'; SELECT ...``). A SQL error is one line, exit 2.
"""

from __future__ import annotations

import argparse
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb

from pipeline import console
from pipeline.settings import Settings
from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.errors import QueryError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", metavar="QUERY", help="SQL to run (see sql/examples/)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    columns, rows = run_query(Warehouse(settings), args.query)
    if args.json:
        console.print_json(
            {
                "columns": columns,
                "rows": [dict(zip(columns, map(_jsonable, r), strict=True)) for r in rows],
            }
        )
    else:
        console.print_table(columns, rows)
    return 0


def run_query(warehouse: Warehouse, query: str) -> tuple[list[str], list[tuple]]:
    """Columns and rows of ``query`` on the published warehouse (read-only)."""
    with warehouse.reader() as con:
        try:
            result = con.execute(query)
            if result.description is None:  # e.g. only SET statements
                return [], []
            columns = [d[0] for d in result.description]
            return columns, result.fetchall()
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


def _jsonable(value: Any) -> Any:
    """Values console.print_json knows stay as they are (Decimal stays exact); others -> text."""
    if value is None or isinstance(value, bool | int | float | str | Decimal | datetime | date):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)  # time, timedelta, UUID, bytes, intervals...
