"""Applies the package's ``sql/`` (``pipeline/sql``) to a DuckDB connection: numbered schema migrations once each, in order,
then macros and views re-created whenever their text changed or a migration ran (they hold no
data). Re-creating them on every writer session would change the catalog each time: a
checkpoint and a publish for a session that changed nothing, ~0.2 s per deck.

A warehouse migrated by a newer ratedeck (a ``schema_migration`` row naming a migration this
one does not ship) is refused before anything is written, by writers and readers alike
(``refuse_newer_schema``): an older ratedeck would otherwise write rows the newer schema does
not expect and put its own older views and macros back."""

from __future__ import annotations

import hashlib
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING

from pipeline.version import installed_version
from pipeline.warehouse.errors import WarehouseNewerError

if TYPE_CHECKING:  # read_sql is on the cost path, which opens no DuckDB on a cache hit
    import duckdb

# shipped inside the package (a wheel carries it); read through importlib.resources
SQL_DIR: Traversable = files("pipeline") / "sql"
DERIVED_FOLDERS = ("macros", "views")
# schema_migration row naming the macros and views in place: this prefix + their sha256
DERIVED_MARK = "derived-sql "
# schema_migration's column naming the ratedeck version that recorded a row (migration 111)
VERSION_COLUMN = "ratedeck_version"
# Migrations renamed on main after builds of main had applied them under their first names
# (numbers collided while branches were merged; the SQL is the same). A warehouse recording a
# former name has that migration: without this, every later build refused it as "migrated by
# a newer ratedeck". A migration is never renamed again (test_warehouse_migration_names.py).
FORMER_NAMES = {
    "108_schema_migration_version.sql": "111_schema_migration_version.sql",
    "110_schema_migration_version.sql": "111_schema_migration_version.sql",
    "108_sms_unknown_mnc_digits.sql": "109_sms_unknown_mnc_digits.sql",
    "109_refused_rows_keep_price.sql": "110_refused_rows_keep_price.sql",
    "110_report_dispute.sql": "112_report_dispute.sql",
}


def sql_files(folder: str) -> list[Traversable]:
    """The ``.sql`` files of one folder of the package's SQL, in name order."""
    found = (p for p in (SQL_DIR / folder).iterdir() if p.name.endswith(".sql"))
    return sorted(found, key=lambda p: p.name)


def read_sql(relative: str) -> str:
    """The text of one file under pipeline/sql/, e.g. ``read_sql('queries/voice_merge.sql')``."""
    return SQL_DIR.joinpath(*relative.split("/")).read_text(encoding="utf-8")


def known_migrations() -> list[str]:
    """The names of the schema migrations this ratedeck ships, in order."""
    return [path.name for path in sql_files("schema")]


def recorded_migrations(con: duckdb.DuckDBPyConnection) -> dict[str, str | None] | None:
    """Each name in the warehouse's ``schema_migration`` (the ``derived-sql`` row included;
    a former name as its current one, ``FORMER_NAMES``) with the ratedeck version that
    recorded it (``None``: recorded before versions were kept, migration 111), or ``None``
    when it has no such table (a new, empty warehouse)."""
    import duckdb

    try:
        cursor = con.execute("SELECT * FROM schema_migration")
    except duckdb.CatalogException:
        return None
    columns = [column[0] for column in cursor.description or ()]
    rows = cursor.fetchall()
    at = columns.index(VERSION_COLUMN) if VERSION_COLUMN in columns else None
    return {FORMER_NAMES.get(row[0], row[0]): None if at is None else row[at] for row in rows}


def refuse_newer_schema(
    con: duckdb.DuckDBPyConnection, recorded: dict[str, str | None] | None
) -> None:
    """Raise ``WarehouseNewerError`` when ``recorded`` (``recorded_migrations``) names a
    migration this ratedeck does not ship: every row but the ``derived-sql`` one is a
    migration's file name."""
    shipped = set(known_migrations())
    unknown = sorted(
        (name, by)
        for name, by in (recorded or {}).items()
        if name not in shipped and not name.startswith(DERIVED_MARK)
    )
    if unknown:
        named = ", ".join(name + (f" by ratedeck {by}" if by else "") for name, by in unknown)
        raise WarehouseNewerError(
            f"{_database_path(con)}: warehouse was migrated by a newer ratedeck ({named}); "
            f"this is ratedeck {installed_version()}: upgrade ratedeck, or restore the backup "
            "taken before the upgrade"
        )


def _database_path(con: duckdb.DuckDBPyConnection) -> str:
    """The file of the connection's current database (the warehouse, read-only or not)."""
    rows = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    return str(rows[0][0]) if rows and rows[0][0] else "the warehouse"


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Bring the schema up to date; returns the names of the migrations applied now. Refuses
    a warehouse migrated by a newer ratedeck before writing anything."""
    recorded = recorded_migrations(con)
    refuse_newer_schema(con, recorded)
    if recorded is None:
        con.execute(
            "CREATE TABLE schema_migration ("
            " name VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
        )
    done = set(recorded or ())
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
        _stamp_version(con, [*applied, mark])
    return applied


def _stamp_version(con: duckdb.DuckDBPyConnection, names: list[str]) -> None:
    """Record this ratedeck's version on the ``schema_migration`` rows it wrote now: after
    them, as migration 111 adds the column in the same session as those before it."""
    has_column = con.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database() "
        "AND table_name = 'schema_migration' AND column_name = ?",
        [VERSION_COLUMN],
    ).fetchall()
    if names and has_column == [(1,)]:
        con.execute(
            "UPDATE schema_migration SET ratedeck_version = ? WHERE list_contains(?, name)",
            [installed_version(), names],
        )
