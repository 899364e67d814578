"""Macros and views are re-created when their SQL text changes (or a migration ran), not at
every writer session: an unchanged session must leave the file, and so the publish, alone."""

from __future__ import annotations

import duckdb

from pipeline.warehouse.migrate import DERIVED_MARK, apply_migrations


def has_view(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    found = con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = ?", [name])
    return found.fetchall() == [(1,)]


def test_views_are_recreated_only_when_their_text_changed():
    con = duckdb.connect()
    apply_migrations(con)
    con.execute("DROP VIEW voice_rate_current")

    assert apply_migrations(con) == []
    assert not has_view(con, "voice_rate_current")  # same text: not re-created

    con.execute(
        "UPDATE schema_migration SET name = ? WHERE starts_with(name, ?)",
        [DERIVED_MARK + "older", DERIVED_MARK],
    )
    apply_migrations(con)
    assert has_view(con, "voice_rate_current")
    marks = con.execute(
        "SELECT count(*) FROM schema_migration WHERE starts_with(name, ?)", [DERIVED_MARK]
    ).fetchall()
    assert marks == [(1,)]
