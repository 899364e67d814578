"""The tests' migrated template (``support.warehouse_template``) stands for a new warehouse: a
data dir started from it holds what the first writer of an empty data dir leaves, so the tests
that start from it test the real thing."""

from __future__ import annotations

from pathlib import Path

import duckdb
from support.warehouse_template import start_warehouse

from pipeline.settings import Settings
from pipeline.warehouse.db import Warehouse

CATALOG = [
    "SELECT name FROM schema_migration ORDER BY name",
    "SELECT table_name, column_name, data_type, comment FROM duckdb_columns() "
    "WHERE database_name = current_database() ORDER BY ALL",
    "SELECT view_name, sql, comment FROM duckdb_views() "
    "WHERE database_name = current_database() AND NOT internal ORDER BY ALL",
    "SELECT function_name, macro_definition, comment FROM duckdb_functions() "
    "WHERE database_name = current_database() AND function_type LIKE '%macro' ORDER BY ALL",
    "SELECT table_name, estimated_size FROM duckdb_tables() "
    "WHERE database_name = current_database() ORDER BY ALL",
]


def catalog(path: Path) -> list[list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [con.execute(sql).fetchall() for sql in CATALOG]
    finally:
        con.close()


def data_dir_settings(data_dir: Path) -> Settings:
    return Settings().with_overrides(paths={"data_dir": str(data_dir)})


def test_a_data_dir_started_from_the_template_is_what_a_first_writer_leaves(tmp_path):
    written = Warehouse(data_dir_settings(tmp_path / "written"))
    with written.writer():
        pass
    settings = data_dir_settings(tmp_path / "copied")
    start_warehouse(settings)
    copied = Warehouse(settings)

    files = ("published_path", "working_path")
    assert [getattr(copied, f).exists() for f in files] == [True, True]
    expected = catalog(written.published_path)
    assert expected[0] and expected[1] and expected[2]  # migrations, columns, views
    assert catalog(copied.published_path) == expected
    assert catalog(copied.working_path) == expected
    with copied.writer() as con:  # the next writer finds nothing to migrate, and writes
        con.execute("INSERT INTO schema_migration (name) VALUES ('written after')")
    assert catalog(copied.published_path)[0] == [*expected[0], ("written after",)]


def test_a_warehouse_already_there_is_left_as_it_is(tmp_path):
    settings = data_dir_settings(tmp_path / "data")
    with Warehouse(settings).writer() as con:
        con.execute("INSERT INTO schema_migration (name) VALUES ('mine')")
    before = Warehouse(settings).published_path.read_bytes()

    start_warehouse(settings)

    assert Warehouse(settings).published_path.read_bytes() == before
