"""Fixtures for the report tests: a real DuckDB warehouse in tmp_path, a real aiosmtpd server
on loopback, and report settings pointing at tmp_path (helpers in support/reports.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from aiosmtpd.controller import Controller
from support.reports import DeckHistory, SmsHistory
from support.smtp import RecordingHandler, start_smtp
from support.warehouse_template import copy_migrated

from pipeline.settings import Settings, load_settings
from pipeline.warehouse.migrate import apply_migrations


@pytest.fixture
def warehouse_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def con(warehouse_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    # a copy of the migrated template: apply_migrations below then has nothing left to do
    connection = duckdb.connect(str(copy_migrated(warehouse_path)))
    apply_migrations(connection)
    yield connection
    connection.close()


@pytest.fixture
def decks(con: duckdb.DuckDBPyConnection) -> DeckHistory:
    return DeckHistory(con)


@pytest.fixture
def sms(con: duckdb.DuckDBPyConnection) -> SmsHistory:
    return SmsHistory(con)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    base = load_settings(env={})
    return base.with_overrides(
        paths={"data_dir": tmp_path / "data"},
        warehouse={"path": tmp_path / "warehouse.duckdb"},
        voice={"tech_prefixes": ["current", "021001"]},
        report={"recipients": ["finance@example.com", "cfo@example.com"]},
        smtp={"host": None},
    )


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, RecordingHandler]]:
    handler = RecordingHandler()
    controller = start_smtp(handler)
    yield controller, handler
    controller.stop()
