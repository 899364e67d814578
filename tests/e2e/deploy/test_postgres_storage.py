"""``ratedeck run`` and ``ratedeck demo`` with ``[dagster] postgres_url``: runs, events and
schedules in a real PostgreSQL server, the password only ever in the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

PG_PASSWORD = "pg-Secret-4711"  # as conftest's: the server's password


def files_containing(folder: Path, text: str) -> list[Path]:
    needle = text.encode()
    return [p for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_run_stores_its_runs_in_postgres_with_the_password_from_the_environment(
    tmp_path, write_config, cli, runs_in_postgres
):
    config = write_config()

    done = cli("run", "--config", str(config), "--select", "voice,balance", "--no-report")

    assert done.returncode == 0, done.stderr
    assert [status for _, status in runs_in_postgres()] == ["SUCCESS"] * 3  # 2 decks + balance
    home = tmp_path / "data" / "dagster_home"
    yaml = (home / "dagster.yaml").read_text(encoding="utf-8")
    assert "password: {env: RATEDECK_POSTGRES_PASSWORD}" in yaml
    assert "storage:\n  postgres:\n" in yaml
    assert "run_monitoring:\n  enabled: true\n" in yaml  # the daemon fails a run stuck STARTING
    assert list(home.rglob("*.db")) == []  # no SQLite run, event-log or schedule storage
    assert files_containing(tmp_path, PG_PASSWORD) == []
    assert PG_PASSWORD not in done.stdout + done.stderr


def test_wrong_password_is_one_line_without_it(write_config, cli):
    wrong = "not-the-Password-99"
    done = cli("run", "--config", str(write_config()), RATEDECK_POSTGRES_PASSWORD=wrong)

    assert done.returncode == 1, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "Dagster storage postgresql://postgres@127.0.0.1:" in line
    assert "password authentication failed" in line
    assert wrong not in done.stdout + done.stderr


@pytest.mark.slow
def test_demo_with_config_file_uses_postgres(tmp_path, write_config, cli, runs_in_postgres):
    config = write_config("[emulator]\ndeck_size = 50\n", data_dir=tmp_path / "demo")

    done = cli("demo", "--config", str(config))

    assert done.returncode == 0, done.stderr
    runs = runs_in_postgres()
    # two market days: each deck, the balance and the report
    assert [status for _, status in runs] == ["SUCCESS"] * 8
    assert list((tmp_path / "demo" / "dagster_home").rglob("*.db")) == []
