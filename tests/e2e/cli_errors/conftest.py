"""An emulator the test starts and the ``ratedeck`` runner; data dirs in tmp."""

from __future__ import annotations

import pytest
from support.cli_errors import API_KEY, MARKET_DAY, run_ratedeck

from pipeline.emulator import EmulatorServer, Market


@pytest.fixture
def ratedeck():
    return run_ratedeck


@pytest.fixture
def market() -> Market:
    return Market(seed=11, start_date=MARKET_DAY, deck_size=50)


@pytest.fixture
def emulator(market):
    with EmulatorServer(market, api_key=API_KEY, market_date=MARKET_DAY) as server:
        yield server
