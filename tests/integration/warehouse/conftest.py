"""Fixtures for warehouse integration tests: real warehouse files in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from support.bodies import increments, ingest_result, voice_rate_frame

from pipeline.ingest.frames import IngestResult
from pipeline.settings import Settings, load_settings
from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.migrate import apply_migrations
from pipeline.warehouse.voice import load_voice_snapshot

REPO_ROOT = Path(__file__).resolve().parents[3]


def deck(*rows: tuple) -> IngestResult:
    """rows: (prefix, destination, price, "a/b", effective_at or None)."""
    return ingest_result(
        voice_rate_frame(
            (prefix, destination, price, *increments(a_b), effective_at)
            for prefix, destination, price, a_b, effective_at in rows
        )
    )


def load(warehouse: Warehouse, tech_prefix: str, fetched_at: datetime, result: IngestResult):
    with warehouse.writer() as con:
        return load_voice_snapshot(
            con,
            tech_prefix=tech_prefix,
            fetched_at=fetched_at,
            content_sha256=f"{tech_prefix}-{fetched_at.timestamp()}",
            raw_path=f"raw/voice/{tech_prefix}/{fetched_at:%Y%m%dT%H%M%S}.csv",
            result=result,
        )


@pytest.fixture
def make_deck():
    """make_deck(*(prefix, destination, price, "a/b", effective_at)) -> IngestResult."""
    return deck


@pytest.fixture
def load_deck():
    """load_deck(warehouse, tech_prefix, fetched_at, ingest_result): one writer session."""
    return load


@pytest.fixture
def warehouse(tmp_path) -> Warehouse:
    return Warehouse(tmp_path / "data" / "warehouse.duckdb", tmp_path / "data" / "state")


@pytest.fixture
def con(tmp_path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A migrated warehouse file in tmp_path, open read-write (the writer's connection)."""
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    apply_migrations(connection)
    yield connection
    connection.close()


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Settings whose reports go to the outbox under tmp_path, to finance@example.com."""
    return load_settings(env={}).with_overrides(
        paths={"data_dir": tmp_path / "data"},
        warehouse={"path": tmp_path / "warehouse.duckdb"},
        report={"recipients": ["finance@example.com"]},
        smtp={"host": None},
    )


@pytest.fixture(scope="module")
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def populated(tmp_path_factory, now) -> Warehouse:
    """Two tech prefixes, dates relative to now:
    current  now-10d  44 UK 0.10 1/1, 4420 UK Mobile 0.20 60/60, 49 Germany 0.05, 1 USA 0.01 60/1
             now-3d   44 -> 0.12 (+20%), 49 -> 0.04, new 33 France 0.03,
                      USA 0.02 announced for now+5d
             now-1d   4420 -> 0.30 (+50%)
    021001   now-2d   44 UK 0.50
    """
    root = tmp_path_factory.mktemp("populated")
    warehouse = Warehouse(root / "warehouse.duckdb", root / "state")
    past = now - timedelta(days=400)
    base = [
        ("44", "UK", "0.10", "1/1", past),
        ("4420", "UK Mobile", "0.20", "60/60", past),
        ("49", "Germany", "0.05", "1/1", past),
        ("1", "USA", "0.01", "60/1", past),
    ]
    day3 = [
        ("44", "UK", "0.12", "1/1", past),
        ("4420", "UK Mobile", "0.20", "60/60", past),
        ("49", "Germany", "0.04", "1/1", past),
        ("1", "USA", "0.01", "60/1", past),
        ("1", "USA", "0.02", "60/1", now + timedelta(days=5)),
        ("33", "France", "0.03", "1/1", past),
    ]
    day1 = [r if r[0] != "4420" else ("4420", "UK Mobile", "0.30", "60/60", past) for r in day3]
    load(warehouse, "current", now - timedelta(days=10), deck(*base))
    load(warehouse, "021001", now - timedelta(days=2), deck(("44", "UK", "0.50", "1/1", past)))
    load(warehouse, "current", now - timedelta(days=3), deck(*day3))
    load(warehouse, "current", now - timedelta(days=1), deck(*day1))
    return warehouse


@pytest.fixture
def sql_cli_on(monkeypatch, tmp_path, capsys):
    """``sql_cli_on(warehouse)``: a function running ``ratedeck sql ARGS`` in-process on that
    published warehouse, from tmp_path (no ./ratedeck.toml), giving (exit code, stdout,
    stderr): the real main() path without importing the other commands' modules."""
    from pipeline import cli as ratedeck_cli

    def on(warehouse: Warehouse):
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("RATEDECK_CONFIG", raising=False)
        monkeypatch.setenv("RATEDECK_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("RATEDECK_WAREHOUSE", str(warehouse.published_path))
        monkeypatch.setattr(ratedeck_cli, "COMMANDS", {"sql": ratedeck_cli.COMMANDS["sql"]})

        def run(*argv: str) -> tuple[int, str, str]:
            code = ratedeck_cli.main(["sql", *argv])
            out, err = capsys.readouterr()
            return code, out, err

        return run

    return on
