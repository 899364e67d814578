"""The catalog documents itself (issue 14.7): every table, view, column and macro of a migrated
warehouse has a COMMENT ON, and docs/warehouse.md is generated from those comments."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from support.migrations import apply_schema_before

from pipeline.warehouse.catalog_doc import catalog_markdown, fresh_catalog_markdown
from pipeline.warehouse.migrate import apply_migrations, read_sql

DOC = Path(__file__).resolve().parents[3] / "docs" / "warehouse.md"
COMMENTS = "080_catalog_comments.sql"


@pytest.fixture
def con():
    with duckdb.connect() as connection:
        apply_migrations(connection)
        yield connection


def uncommented(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every relation, column and macro overload whose comment is missing or blank."""
    missing = []
    for kind, name, comment in con.sql(read_sql("queries/catalog_relations.sql")).fetchall():
        missing += [f"{kind} {name}"] if not (comment or "").strip() else []
    for relation, name, _, comment in con.sql(read_sql("queries/catalog_columns.sql")).fetchall():
        missing += [f"column {relation}.{name}"] if not (comment or "").strip() else []
    for name, kind, params, comment in con.sql(read_sql("queries/catalog_macros.sql")).fetchall():
        missing += [f"{kind} {name}({params})"] if not (comment or "").strip() else []
    return missing


def test_every_table_view_column_and_macro_has_a_comment(con):
    relations = con.sql(read_sql("queries/catalog_relations.sql")).fetchall()
    # the catalog queries see the warehouse: all of it, and nothing of DuckDB's own
    assert {"voice_rate", "voice_rate_change", "schema_migration"} <= {r[1] for r in relations}
    assert len(con.sql(read_sql("queries/catalog_macros.sql")).fetchall()) >= 16
    assert uncommented(con) == []


def test_the_check_sees_a_missing_comment(con):
    con.execute("ALTER TABLE voice_rate ADD COLUMN note VARCHAR")
    con.execute("CREATE VIEW scratch AS SELECT 1 AS one")
    con.execute("CREATE MACRO twice(x) AS x * 2")
    assert uncommented(con) == [
        "view scratch",
        "column scratch.one",
        "column voice_rate.note",
        "macro twice(x)",
    ]


def test_view_and_macro_comments_survive_their_re_creation(con):
    apply_migrations(con)  # views and macros are created again on every run
    assert uncommented(con) == []


def test_an_older_warehouse_gains_the_comments(tmp_path):
    with duckdb.connect(str(tmp_path / "old.duckdb")) as con:
        apply_schema_before(con, COMMENTS)  # what an older ratedeck applied
        assert COMMENTS in apply_migrations(con)
        assert uncommented(con) == []


def test_docs_warehouse_md_is_current():
    assert DOC.read_text(encoding="utf-8") == fresh_catalog_markdown(), (
        "docs/warehouse.md is stale: python -m pipeline.warehouse.catalog_doc > docs/warehouse.md"
    )


def test_reference_lists_every_column_with_its_comment(con):
    doc = catalog_markdown(con)
    assert "### `voice_rate_change`" in doc
    assert (
        "| `price` | `DECIMAL(18,8)` | Price per minute in currency, exact DECIMAL(18, 8). |" in doc
    )
    # a | inside a comment is escaped, or it would split the Markdown table cell
    assert "new \\| removed \\| increase" in doc
    columns = con.sql(read_sql("queries/catalog_columns.sql")).fetchall()
    assert all(f"| `{name}` | `{dtype}` |" in doc for _, name, dtype, _ in columns)
