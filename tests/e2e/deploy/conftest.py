"""The deployment: Dagster's storage in a real PostgreSQL server (started here, on a free
loopback port, in a temporary folder; stopped after), the emulator over HTTP, and ``ratedeck``
or Dagster's own processes as subprocesses.

Helpers are fixtures (``write_config``, ``cli``, ``runs_in_postgres``): test modules never
import from conftest.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from support.postgres import Postgres, running_postgres, server_bin

from pipeline.emulator import EmulatorServer, Market

BIN = Path(sys.executable).parent
API_KEY = "deploy-test-key"
# only the server knows it: the tests prove it reaches Dagster through the environment alone
PG_PASSWORD = "pg-Secret-4711"
TECH_PREFIXES = ("current", "021001")
MARKET_DAY = date(2026, 11, 2)
TIMEOUT_S = 300


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    if server_bin() is None:
        pytest.skip("PostgreSQL is not installed (.ci/run installs it: apt-get install postgresql)")
    with running_postgres(PG_PASSWORD) as server:
        yield server


@pytest.fixture
def database(postgres: Postgres, request) -> Postgres:
    """A database of this test's own on the module's server."""
    return postgres.new_database(re.sub(r"[^a-z0-9_]", "_", request.node.name.lower())[:60])


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    market = Market(seed=7, start_date=MARKET_DAY, deck_size=200, tech_prefixes=TECH_PREFIXES)
    with EmulatorServer(market, api_key=API_KEY, market_date=MARKET_DAY) as server:
        yield server


def deploy_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any ratedeck/CommPeak/Dagster setting, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RATEDECK_", "COMMPEAK_", "DAGSTER_"))
    }
    env.update(PYTHONUNBUFFERED="1", **extra)
    return env


@pytest.fixture(scope="session")
def clean_env() -> Callable[..., dict[str, str]]:
    """``clean_env(**extra)``: the environment a deployed process gets."""
    return deploy_env


@pytest.fixture
def write_config(tmp_path: Path, database: Postgres, emulator: EmulatorServer):
    """``write_config(extra_toml="")``: a ratedeck.toml on Postgres and the emulator."""

    def write(extra_toml: str = "", data_dir: Path | None = None) -> Path:
        path = tmp_path / "ratedeck.toml"
        path.write_text(
            f"""
[api]
base_url = "{emulator.url}"
max_retries = 0
[voice]
tech_prefixes = {list(TECH_PREFIXES)!r}
[paths]
data_dir = "{data_dir or tmp_path / "data"}"
[dagster]
postgres_url = "{database.url}"
{extra_toml}
""",
            encoding="utf-8",
        )
        return path

    return write


@pytest.fixture
def cli(tmp_path: Path):
    """``cli(*args, **env)``: ``ratedeck`` run to its end with the API key and the Postgres
    password in its environment (``RATEDECK_POSTGRES_PASSWORD=...`` to override)."""

    def run(*args: str, **env: str) -> subprocess.CompletedProcess:
        env = {"COMMPEAK_API_KEY": API_KEY, "RATEDECK_POSTGRES_PASSWORD": PG_PASSWORD, **env}
        return subprocess.run(
            [str(BIN / "ratedeck"), *args],
            env=deploy_env(**env),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )

    return run


@pytest.fixture
def runs_in_postgres(database: Postgres):
    """``runs_in_postgres()``: (job name, status) of every run Dagster stored in Postgres."""

    def runs() -> list[tuple[str, str]]:
        with database.connect() as con, con.cursor() as cursor:
            cursor.execute("SELECT pipeline_name, status FROM runs ORDER BY create_timestamp")
            return cursor.fetchall()

    return runs
