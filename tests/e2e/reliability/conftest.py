"""Fixtures for the end-to-end reliability tests: the real ``ratedeck`` CLI in child processes
against the emulator on loopback, with a ratedeck.toml and a data dir in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.reliability import API_KEY, MARKET_START, TECH_PREFIX
from support.reliability_cli import Cli, cli_env, write_config

from pipeline.emulator import EmulatorServer, Market


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    market = Market(
        seed=11, start_date=MARKET_START, deck_size=300, tech_prefixes=(TECH_PREFIX, "021002")
    )
    with EmulatorServer(market, api_key=API_KEY) as server:
        yield server


@pytest.fixture
def cli(tmp_path, emulator) -> Cli:
    data_dir = tmp_path / "data"
    config = write_config(tmp_path / "ratedeck.toml", [TECH_PREFIX])
    return Cli(config, cli_env(emulator.url, data_dir), data_dir)
