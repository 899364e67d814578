"""Applies the package's ``sql/`` (``pipeline/sql``) to a DuckDB connection: numbered schema migrations once each, in order,
then macros and views re-created whenever their text changed or a migration ran (they hold no
data). Re-creating them on every writer session would change the catalog each time: a
checkpoint and a publish for a session that changed nothing, ~0.2 s per deck."""

from __future__ import annotations

import hashlib
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # read_sql is on the cost path, which opens no DuckDB on a cache hit
    import duckdb

# shipped inside the package (a wheel carries it); read through importlib.resources
SQL_DIR: Traversable = files("pipeline") / "sql"
DERIVED_FOLDERS = ("macros", "views")
# schema_migration row naming the macros and views in place: this prefix + their sha256
DERIVED_MARK = "derived-sql "


def sql_files(folder: str) -> list[Traversable]:
    """The ``.sql`` files of one folder of the package's SQL, in name order."""
    found = (p for p in (SQL_DIR / folder).iterdir() if p.name.endswith(".sql"))
    return sorted(found, key=lambda p: p.name)


def read_sql(relative: str) -> str:
    """The text of one file under pipeline/sql/, e.g. ``read_sql('queries/voice_merge.sql')``."""
    return SQL_DIR.joinpath(*relative.split("/")).read_text(encoding="utf-8")


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Bring the schema up to date; returns the names of the migrations applied now."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migration ("
        " name VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
    )
    done = {row[0] for row in con.execute("SELECT name FROM schema_migration").fetchall()}
    applied = []
    for path in sql_files("schema"):
        if path.name in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(path.read_text(encoding="utf-8"))
            con.execute("INSERT INTO schema_migration (name) VALUES (?)", [path.name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(path.name)
    derived = [path.read_text(encoding="utf-8") for f in DERIVED_FOLDERS for path in sql_files(f)]
    mark = DERIVED_MARK + hashlib.sha256("\n;\n".join(derived).encode()).hexdigest()
    if applied or mark not in done:
        for text in derived:
            con.execute(text)
        con.execute("DELETE FROM schema_migration WHERE starts_with(name, ?)", [DERIVED_MARK])
        con.execute("INSERT INTO schema_migration (name) VALUES (?)", [mark])
    return applied
