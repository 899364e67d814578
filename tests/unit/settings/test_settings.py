from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.settings import load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ratedeck.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_demo_defaults_when_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={})
    assert settings.source == "built-in demo settings"
    assert settings.voice.tech_prefixes == ["current", "021001", "021002"]
    assert settings.api.base_url == "https://api.commpeak.com"
    assert settings.warehouse_path == Path("data/warehouse.duckdb")
    assert settings.secrets.api_key is None


def test_file_values_and_environment_overrides(tmp_path):
    path = write(
        tmp_path,
        """
[api]
base_url = "https://api.commpeak.com"
timeout_s = 12
[voice]
tech_prefixes = ["current", "021001"]
format = "xls"
[sms]
channels = [{ username = "acme", id = 1 }]
[report]
recipients = ["finance@example.com"]
reference_call_seconds = 120
[balance]
low_balance_threshold = "25.50"
""",
    )
    env = {
        "COMMPEAK_BASE_URL": "http://127.0.0.1:8123",
        "RATEDECK_DATA_DIR": str(tmp_path / "d"),
        "COMMPEAK_API_KEY": "k-123",
    }
    settings = load_settings(path, env=env)
    assert settings.api.base_url == "http://127.0.0.1:8123"
    assert settings.api.timeout_s == 12
    assert settings.voice.format == "xls"
    assert settings.sms.channels[0].key == "acme:1"
    assert settings.report.reference_call_seconds == 120
    assert settings.balance.low_balance_threshold == Decimal("25.50")
    assert settings.warehouse_path == tmp_path / "d" / "warehouse.duckdb"
    assert settings.secrets.api_key.get_secret_value() == "k-123"
    assert "k-123" not in repr(settings)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[voice]\ntech_prefixs = ['current']\n", "voice.tech_prefixs: unknown setting"),
        ("[voice]\ntech_prefixes = ['../customer']\n", "bad tech prefix '../customer'"),
        ("[voice]\ntech_prefixes = ['021001/../x']\n", "bad tech prefix"),
        (
            "[api]\nbase_url = 'http://api.commpeak.com'\n",
            "http is only allowed to a loopback host",
        ),
        ("[api]\nbase_url = 'ftp://x'\n", "bad base URL"),
        ("[api]\napi_key = 'secret'\n", "must come from the environment"),
        ("[voice]\nformat = 'pdf'\n", "voice.format"),
        ("[smtp]\nssl = true\nstarttls = true\n", "not both"),
        ("not toml = = \n", "not valid TOML"),
    ],
)
def test_bad_settings_are_one_line_config_errors(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert caught.value.exit_code == 2
    assert "secret" not in str(caught.value).replace("environment", "") or "api_key" in str(
        caught.value
    )


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="settings file not found"):
        load_settings(tmp_path / "nope.toml", env={})


def test_loopback_http_is_allowed(tmp_path):
    for url in ("http://localhost:9000", "http://127.0.0.1:1", "http://[::1]:8080"):
        assert load_settings(env={"COMMPEAK_BASE_URL": url}).api.base_url == url


def test_cli_exits_2_with_one_line_on_bad_settings(tmp_path, capsys):
    from pipeline.cli import main

    path = write(tmp_path, "[voice]\ntech_prefixes = ['abc']\n")
    code = main(["sql", "SELECT 1", "--config", str(path)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("ratedeck: error: ") and "bad tech prefix 'abc'" in err
    assert len(err.splitlines()) == 1


def test_tech_prefix_with_trailing_newline_is_refused(tmp_path):
    path = write(tmp_path, '[voice]\ntech_prefixes = ["021001\\n"]\n')
    with pytest.raises(ConfigError, match="bad tech prefix"):
        load_settings(path, env={})


@pytest.mark.parametrize("where", ["before", "after"])
def test_common_options_work_before_or_after_the_command(tmp_path, capsys, where):
    from pipeline.cli import main

    path = write(tmp_path, "[voice]\ntech_prefixes = ['x1']\n")
    argv = ["--config", str(path), "sql", "SELECT 1"]
    if where == "after":
        argv = ["sql", "SELECT 1", "--config", str(path)]
    assert main(argv) == 2
    assert "bad tech prefix 'x1'" in capsys.readouterr().err
