"""Shared markets for the emulator unit tests (building one is the slow part: share them)."""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.emulator.market import Market

START = date(2026, 11, 1)


@pytest.fixture(scope="session")
def start() -> date:
    return START


@pytest.fixture(scope="session")
def market() -> Market:
    return Market(seed=7, start_date=START)


@pytest.fixture(scope="session")
def dated_market() -> Market:
    return Market(seed=7, start_date=START, effective_dates=True)
