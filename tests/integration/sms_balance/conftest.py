"""Simulated CommPeak days for the SMS / balance integration tests, and a real SMTP server.

Every simulated answer goes the production way: raw bytes into the landing zone, then the SMS
feed's own stages (normalise with the refusal threshold, load in one writer transaction:
private copy, published atomically), not a re-implementation of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

import duckdb
import pytest
from support.smtp import RecordingHandler, running_smtp
from support.warehouse_template import start_warehouse

from pipeline.ingest.balance import normalize_customer
from pipeline.landing import LandedFile, LandingZone
from pipeline.settings import Settings
from pipeline.stages import feed
from pipeline.stages.sms import SMS
from pipeline.warehouse.balance import BalanceLoad, load_balance_snapshot
from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.snapshot import SnapshotLoad


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings().with_overrides(
        paths={"data_dir": str(tmp_path / "data")},
        balance={"low_balance_threshold": "50"},
        report={"recipients": ["finance@example.com", "ops@example.com"]},
    )


class Pipeline:
    """The layers below Dagster, driven one simulated fetch at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.zone = LandingZone(settings.data_dir)
        self.warehouse = Warehouse(settings)
        self._open: duckdb.DuckDBPyConnection | None = None

    @contextmanager
    def run(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One pipeline run: loads inside share one writer session (published at the end)."""
        start_warehouse(self.settings)  # the first run's new warehouse: a copy, not migrated
        with self.warehouse.writer() as con:
            self._open = con
            try:
                yield con
            finally:
                self._open = None

    @contextmanager
    def _writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._open is not None:
            yield self._open
        else:
            with self.run() as con:
                yield con

    def land(self, kind: str, source: str, body: bytes, fetched_at: datetime) -> LandedFile:
        return self.zone.store_bytes(kind, source, body, ext="json", fetched_at=fetched_at)

    def load_sms(self, landed: LandedFile) -> SnapshotLoad:
        staged = feed.normalise(self.settings, SMS, landed)
        with self._writer() as con:
            return feed.load_into(con, self.settings, SMS, staged)

    def fetch_sms(self, channel: str, body: bytes, fetched_at: datetime) -> SnapshotLoad:
        return self.load_sms(self.land("sms", channel, body, fetched_at))

    def load_customer(self, landed: LandedFile) -> BalanceLoad:
        record = normalize_customer(landed.read_bytes(), source=landed.relative_path)
        with self._writer() as con:
            return load_balance_snapshot(
                con,
                fetched_at=landed.fetched_at,
                content_sha256=landed.sha256,
                raw_path=landed.relative_path,
                record=record,
            )

    def fetch_customer(self, body: bytes, fetched_at: datetime) -> BalanceLoad:
        return self.load_customer(self.land("customer", "customer", body, fetched_at))

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with self.warehouse.reader() as con:
            return con.execute(sql, params or []).fetchall()


@pytest.fixture
def pipeline(settings) -> Pipeline:
    return Pipeline(settings)


@pytest.fixture
def make_pipeline(settings) -> Callable[..., Pipeline]:
    """make_pipeline(sms={...}): a Pipeline whose settings have some sections overridden."""
    return lambda **sections: Pipeline(settings.with_overrides(**sections))


@pytest.fixture
def smtp_server() -> Iterator[tuple[RecordingHandler, int]]:
    """A real SMTP server on loopback: (handler, port); handler.emails / .envelopes."""
    handler = RecordingHandler()
    with running_smtp(handler) as controller:
        yield handler, controller.port
