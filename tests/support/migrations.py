"""An older warehouse, as a previous ratedeck left it: for the tests of later migrations."""

from __future__ import annotations

import duckdb
import pytest

from pipeline.warehouse.migrate import sql_files


def apply_schema_before(con: duckdb.DuckDBPyConnection, first_new: str) -> None:
    """Apply (and record) the sql/schema migrations named before ``first_new``, as the ratedeck
    of that time did; views and macros are left for ``apply_migrations`` to create."""
    con.execute(
        "CREATE TABLE schema_migration (name VARCHAR PRIMARY KEY, "
        "applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
    )
    for path in sql_files("schema"):
        if path.name < first_new:
            con.execute(path.read_text(encoding="utf-8"))
            con.execute("INSERT INTO schema_migration (name) VALUES (?)", [path.name])


def assert_rebuilt(con: duckdb.DuckDBPyConnection, table: str, table_comment_says: str) -> None:
    """A table a migration rebuilt (DuckDB cannot drop a key) kept its comments, its own
    saying ``table_comment_says`` and one on every column, and its NOT NULL constraints."""
    comments = con.execute(
        "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = ?", [table]
    ).fetchall()
    assert comments and all(comment for _, comment in comments), (
        f"{table}: a column lost its comment"
    )
    [(comment,)] = con.execute(
        "SELECT comment FROM duckdb_tables() WHERE table_name = ?", [table]
    ).fetchall()
    assert table_comment_says in comment, table
    with pytest.raises(duckdb.ConstraintException):  # NOT NULL constraints are kept
        con.execute(f"INSERT INTO {table} (call_id) VALUES (NULL)")  # noqa: S608 (a test's name)
