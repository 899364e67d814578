"""Fixtures for the lookup integration tests: a real warehouse file in tmp_path."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from support.lookup_warehouse import standard_data_dir

from pipeline.cli import main
from pipeline.warehouse.migrate import apply_migrations


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir whose published warehouse holds STANDARD_HISTORY (file closed). Shared by
    the session: everything here only reads it (outputs go to each test's tmp_path)."""
    return standard_data_dir(tmp_path_factory.mktemp("lookup") / "data")


@pytest.fixture
def con(data_dir: Path):
    """A read-only connection to that warehouse, as analysts and the commands get it."""
    connection = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    yield connection
    connection.close()


@pytest.fixture
def ratedeck(data_dir: Path, tmp_path: Path, monkeypatch, capsys):
    """Run the CLI in-process against ``data_dir``; returns (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RATEDECK_DATA_DIR", str(data_dir))

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def scratch(tmp_path: Path):
    """A writable migrated warehouse with no rates, for tests that fill it themselves."""
    connection = duckdb.connect(str(tmp_path / "scratch.duckdb"))
    apply_migrations(connection)
    yield connection
    connection.close()
