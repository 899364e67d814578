"""The one connection ratedeck makes before Dagster does (``check_reachable``): a server that
is not there is one line naming the URL, whatever driver parameters the URL carries."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from pipeline.postgres_storage import PostgresUnavailable, check_reachable
from pipeline.settings import load_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("query", ["", "?sslmode=disable", "?connect_timeout=5"])
def test_no_server_is_one_line_with_any_driver_parameter(tmp_path: Path, query: str) -> None:
    url = f"postgresql://dagster@127.0.0.1:{free_port()}/dagster{query}"
    config = tmp_path / "ratedeck.toml"
    config.write_text(f'[dagster]\npostgres_url = "{url}"\n', encoding="utf-8")
    settings = load_settings(config, env={"RATEDECK_POSTGRES_PASSWORD": "hunter2-Pg"})
    with pytest.raises(PostgresUnavailable) as caught:  # was a TypeError with connect_timeout
        check_reachable(settings)
    line = str(caught.value)
    assert line.startswith(f"Dagster storage {url} failed: ")
    assert "\n" not in line and "hunter2-Pg" not in line
