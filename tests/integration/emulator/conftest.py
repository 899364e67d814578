"""A real emulator on a loopback port per test (starting one is cheap; the market is shared)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from pipeline.emulator.market import Market
from pipeline.emulator.server import EmulatorServer


@pytest.fixture(scope="session")
def http_market() -> Market:
    return Market(seed=11, start_date=date(2026, 11, 1), deck_size=600, effective_dates=True)


@pytest.fixture
def emulator(http_market: Market) -> Iterator[EmulatorServer]:
    with EmulatorServer(http_market) as server:
        yield server
