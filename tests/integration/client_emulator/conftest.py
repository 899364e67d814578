"""The real client against the real emulator on a loopback port (no mocks, no replay).

A fresh ``EmulatorServer`` per test (cheap: the market is built once per session), and a
``make_client`` factory whose client sleeps through ``sleeps.append`` (retries are instant and
the delays they asked for can be asserted) with a seeded jitter generator.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from pipeline.commpeak import CommPeakClient
from pipeline.emulator import (
    DEFAULT_API_KEY,
    DEFAULT_RECOGNITION_TOKEN,
    EmulatorServer,
    Market,
    MarketDay,
)

MARKET_DATE = date(2026, 11, 1)
DECK_SIZE = 1200
JITTER_SEED = 1234
BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0
COLLECTION_PATH = Path(
    os.environ.get("COMMPEAK_COLLECTION", "/work/shared/commpeak-api.postman_collection.json")
)


@pytest.fixture(scope="session")
def ce_market() -> Market:
    return Market(seed=7, start_date=MARKET_DATE, deck_size=DECK_SIZE)


@pytest.fixture
def market_day(ce_market: Market) -> MarketDay:
    return ce_market.day(MARKET_DATE)


@pytest.fixture
def emulator(ce_market: Market) -> Iterator[EmulatorServer]:
    with EmulatorServer(ce_market, market_date=MARKET_DATE) as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(
    emulator: EmulatorServer, sleeps: list[float]
) -> Iterator[Callable[..., CommPeakClient]]:
    clients: list[CommPeakClient] = []

    def make(**overrides: Any) -> CommPeakClient:
        options: dict[str, Any] = {
            "recognition_token": DEFAULT_RECOGNITION_TOKEN,
            "timeout_s": 10,
            "max_retries": 3,
            "backoff_s": BACKOFF_S,
            "max_backoff_s": MAX_BACKOFF_S,
            "sleep": sleeps.append,
            "rng": random.Random(JITTER_SEED),
        }
        options.update(overrides)
        api_key = options.pop("api_key", DEFAULT_API_KEY)
        client = CommPeakClient(emulator.url, api_key, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., CommPeakClient]) -> CommPeakClient:
    return make_client()


def expected_jitter(retries: int, backoff_s: float = BACKOFF_S) -> list[float]:
    """The delays a client seeded with JITTER_SEED asks for: full jitter over a doubling cap."""
    rng = random.Random(JITTER_SEED)
    return [rng.uniform(0, min(MAX_BACKOFF_S, backoff_s * 2**i)) for i in range(retries)]


@pytest.fixture
def jitter() -> Callable[..., list[float]]:
    return expected_jitter


@pytest.fixture(scope="session")
def collection() -> dict[str, Any]:
    """The Postman collection (``../shared``); tests that compare against it skip without it."""
    if not COLLECTION_PATH.is_file():
        pytest.skip(f"{COLLECTION_PATH} is not present")
    return json.loads(COLLECTION_PATH.read_text(encoding="utf-8"))
