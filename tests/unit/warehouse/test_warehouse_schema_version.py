"""schema_migration records which ratedeck applied each migration (migration 111), and the
refusal of a warehouse a newer ratedeck migrated names that version and this one."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import duckdb
import pytest
from support.migrations import apply_schema_before

from pipeline.warehouse.errors import WarehouseNewerError
from pipeline.warehouse.migrate import DERIVED_MARK, apply_migrations

REPO = Path(__file__).resolve().parents[3]
VERSION_MIGRATION = "111_schema_migration_version.sql"


def project_version() -> str:
    with open(REPO / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]["version"]


def versions(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    rows = con.execute("SELECT name, ratedeck_version FROM schema_migration").fetchall()
    return {("derived-sql" if name.startswith(DERIVED_MARK) else name): by for name, by in rows}


def test_a_new_warehouse_records_this_version_on_every_row():
    assert version("ratedeck") == project_version()  # the metadata is pyproject's (make setup)
    con = duckdb.connect()
    apply_migrations(con)
    recorded = versions(con)
    assert VERSION_MIGRATION in recorded and "derived-sql" in recorded
    assert set(recorded.values()) == {project_version()}


def test_an_older_warehouse_keeps_null_on_the_rows_it_had():
    con = duckdb.connect()
    apply_schema_before(con, VERSION_MIGRATION)
    before = {row[0] for row in con.execute("SELECT name FROM schema_migration").fetchall()}

    applied = apply_migrations(con)

    assert applied[0] == VERSION_MIGRATION  # and any migration numbered after it
    recorded = versions(con)
    assert {name: recorded[name] for name in before} == dict.fromkeys(before)
    assert {recorded[name] for name in [*applied, "derived-sql"]} == {project_version()}


def test_the_refusal_names_the_newer_version_and_this_one(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        apply_migrations(con)
        con.execute(
            "INSERT INTO schema_migration (name, ratedeck_version) VALUES (?, ?), (?, NULL)",
            ["120_future.sql", "0.3.0", "121_later.sql"],
        )
        before = con.execute("SELECT * FROM schema_migration ORDER BY name").fetchall()

        with pytest.raises(WarehouseNewerError) as refused:
            apply_migrations(con)

        assert str(refused.value) == (
            f"{path}: warehouse was migrated by a newer ratedeck (120_future.sql by ratedeck "
            f"0.3.0, 121_later.sql); this is ratedeck {project_version()}: upgrade ratedeck, "
            "or restore the backup taken before the upgrade"
        )
        assert refused.value.exit_code == 2
        assert con.execute("SELECT * FROM schema_migration ORDER BY name").fetchall() == before
