"""An older warehouse, as a previous ratedeck left it: for the tests of later migrations."""

from __future__ import annotations

import duckdb

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
