"""Dagster wiring against the real emulator: one loopback EmulatorServer per module (Dagster is
slow to import and to start runs, so everything shared is shared), a fresh data dir per test.

Tests set the market date and faults they need; ``emulator_at`` restores a clean server after.
Helpers are fixtures (``make_settings``, ``api_warnings``, ``market_days``): test modules never
import from conftest.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from pipeline.emulator import EmulatorServer, Market
from pipeline.settings import Settings

DAY1 = date(2026, 11, 2)
DAY2 = DAY1 + timedelta(days=1)
DECK_SIZE = 300
API_KEY = "dagster-test-key"
TECH_PREFIXES = ("current", "021001")
SMS_CHANNEL = {"username": "acme", "id": "1"}


@pytest.fixture(scope="module")
def dg_emulator() -> Iterator[EmulatorServer]:
    market = Market(seed=7, start_date=DAY1, deck_size=DECK_SIZE, tech_prefixes=TECH_PREFIXES)
    with EmulatorServer(market, api_key=API_KEY, market_date=DAY1) as server:
        yield server


@pytest.fixture
def emulator_at(dg_emulator: EmulatorServer) -> Iterator[EmulatorServer]:
    """The shared server on DAY1 without faults, and put back so after the test."""
    dg_emulator.set_market_date(DAY1)
    dg_emulator.set_faults(None)
    yield dg_emulator
    dg_emulator.set_market_date(DAY1)
    dg_emulator.set_faults(None)


def pipeline_settings(data_dir: Path, base_url: str, **sections: dict) -> Settings:
    """Settings for one test: its own data dir, the emulator, no retries to wait through
    (neither the client's nor Dagster's step retries)."""
    defaults = {
        "paths": {"data_dir": str(data_dir)},
        "api": {"base_url": base_url, "max_retries": 0},
        "voice": {"tech_prefixes": list(TECH_PREFIXES)},
        "sms": {"channels": [SMS_CHANNEL]},
        "dagster": {"fetch_retries": 0},  # a failing fetch fails at once (tests opt in)
    }
    for name, values in sections.items():
        defaults[name] = {**defaults.get(name, {}), **values}
    settings = Settings().with_overrides(**defaults)
    secrets = settings.secrets.model_copy(update={"api_key": SecretStr(API_KEY)})
    return settings.model_copy(update={"secrets": secrets})


@pytest.fixture
def make_settings(tmp_path: Path, emulator_at: EmulatorServer):
    """``make_settings(name="data", **sections)``: settings on a fresh data dir in tmp_path."""

    def make(name: str = "data", **sections: dict) -> Settings:
        return pipeline_settings(tmp_path / name, emulator_at.url, **sections)

    return make


@pytest.fixture
def settings(make_settings) -> Settings:
    return make_settings()


@pytest.fixture
def market_days() -> tuple[date, date]:
    return DAY1, DAY2


# Dagster's own warning classes (PreviewWarning, BetaWarning, SupersessionWarning, ...) and the
# standard deprecation family: our definitions must use only current, stable API.
def is_api_warning(w: warnings.WarningMessage) -> bool:
    category = w.category
    return issubclass(
        category, DeprecationWarning | PendingDeprecationWarning | FutureWarning
    ) or category.__module__.startswith("dagster")


@pytest.fixture(scope="session")
def api_warnings():
    """``with api_warnings(): ...`` fails the test on any deprecation or Dagster API warning."""
    return no_api_warnings


@contextmanager
def no_api_warnings() -> Iterator[list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught
    flagged = [f"{w.category.__name__}: {w.message}" for w in caught if is_api_warning(w)]
    assert flagged == []
