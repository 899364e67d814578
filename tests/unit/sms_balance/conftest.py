"""Fixtures for the SMS / balance unit tests: a migrated DuckDB file in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from pipeline.warehouse.migrate import apply_migrations


@pytest.fixture
def con(tmp_path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    apply_migrations(connection)
    try:
        yield connection
    finally:
        connection.close()
