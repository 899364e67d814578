"""[dagster] and [alerts]: Postgres storage without a password in any file, the dagster.yaml
it becomes, alert recipients and freshness limits, each refusal one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.errors import ConfigError
from pipeline.orchestrate import INSTANCE_CONFIG, instance_config, prepare_dagster_home
from pipeline.settings import load_settings

PASSWORD = "hunter2-Pg"


def settings_from(tmp_path: Path, text: str, **env: str):
    path = tmp_path / "ratedeck.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, env=env)


def test_defaults(tmp_path):
    settings = settings_from(tmp_path, "")
    assert settings.dagster.postgres_url is None
    assert settings.dagster.fetch_retries == 2
    assert settings.dagster.webserver_url == "http://127.0.0.1:3000"
    assert settings.alerts.recipients == ["data-engineers@example.com"]
    assert (settings.alerts.voice_max_age_hours, settings.alerts.balance_max_age_hours) == (26, 2)
    assert instance_config(settings) == INSTANCE_CONFIG  # SQLite: nothing about storage


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            f'[dagster]\npostgres_url = "postgresql://dagster:{PASSWORD}@db:5432/dagster"',
            "dagster.postgres_url: no password in the URL: set RATEDECK_POSTGRES_PASSWORD instead",
        ),
        (
            f'[dagster]\npostgres_url = "postgresql://dagster@db:5432/dagster?password={PASSWORD}"',
            "dagster.postgres_url: no password in the URL: set RATEDECK_POSTGRES_PASSWORD instead",
        ),
        (
            '[dagster]\npostgres_url = "postgresql://u@db/d?sslmode=require&port=6432"',
            "dagster.postgres_url: ?port= in 'postgresql://u@db/d?sslmode=require&port=6432': "
            "give it in the URL itself (postgresql://user@host:port/database)",
        ),
        ('[dagster]\npostgres_url = "mysql://u@db/d"', "dagster.postgres_url: bad URL"),
        ('[dagster]\npostgres_url = "postgresql://db:5432/d"', "dagster.postgres_url: bad URL"),
        ('[dagster]\npostgres_url = "postgresql://u@db:99999/d"', "dagster.postgres_url: bad port"),
        (f'[dagster]\npostgres_password = "{PASSWORD}"', "RATEDECK_POSTGRES_PASSWORD"),
        ("[dagster]\nfetch_retries = -1", "dagster.fetch_retries"),
        ('[dagster]\nwebserver_url = "ftp://x"', "dagster.webserver_url: bad URL"),
        ('[alerts]\nrecipients = ["not an address"]', "alerts.recipients.0"),
        ("[alerts]\nrecipients = []", "alerts.recipients"),
        ("[alerts]\nvoice_max_age_hours = 0", "alerts.voice_max_age_hours"),
        ('[alerts]\nfreshness_schedule = "often"', "alerts.freshness_schedule: bad schedule"),
        ("[alerts]\npager = 1", "alerts.pager: unknown setting"),
    ],
)
def test_refusals_are_one_line_without_the_password(tmp_path, text, message):
    with pytest.raises(ConfigError) as caught:
        settings_from(tmp_path, text)
    error = str(caught.value)
    assert message in error
    assert "\n" not in error and PASSWORD not in error


def test_postgres_storage_block_names_the_password_variable_only(tmp_path):
    settings = settings_from(
        tmp_path,
        f'[paths]\ndata_dir = "{tmp_path / "data"}"\n'
        '[dagster]\npostgres_url = "postgresql://ops%40acme@db.internal:6432/dagster?sslmode=require"',
        RATEDECK_POSTGRES_PASSWORD=PASSWORD,
    )
    home = prepare_dagster_home(settings)
    text = (home / "dagster.yaml").read_text(encoding="utf-8")

    assert PASSWORD not in text
    config = yaml.safe_load(text)
    assert config["storage"]["postgres"]["postgres_db"] == {
        "username": "ops@acme",
        "hostname": "db.internal",
        "port": 6432,
        "db_name": "dagster",
        "scheme": "postgresql+psycopg2",
        "params": {"sslmode": "require"},
        "password": {"env": "RATEDECK_POSTGRES_PASSWORD"},
    }
    assert config["concurrency"]["pools"] == {"default_limit": 1, "granularity": "run"}
    # a run the daemon leaves STARTING (PostgreSQL gone during its launch) is failed, not kept
    # holding its pool slot; failed, not resumed: the default run launcher cannot resume
    assert config["run_monitoring"] == {
        "enabled": True,
        "start_timeout_seconds": 300,
        "cancel_timeout_seconds": 180,
        "max_resume_run_attempts": 0,
        "poll_interval_seconds": 60,
    }


def test_without_password_variable_the_login_has_none(tmp_path):
    settings = settings_from(
        tmp_path, '[dagster]\npostgres_url = "postgresql://dagster@127.0.0.1/dagster"'
    )
    config = yaml.safe_load(instance_config(settings))
    assert "password" not in config["storage"]["postgres"]["postgres_db"]
    assert config["storage"]["postgres"]["postgres_db"]["port"] == 5432


def test_password_is_a_secret_kept_out_of_reprs(tmp_path):
    settings = settings_from(tmp_path, "", RATEDECK_POSTGRES_PASSWORD=PASSWORD)
    assert settings.secrets.postgres_password.get_secret_value() == PASSWORD
    assert PASSWORD not in repr(settings) + str(settings.model_dump())
