"""Every setting is checked when the settings load: one line naming the file and the key,
exit 2, before anything runs (issue 13 item 8)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.settings import load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ratedeck.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[voice]\nschedule = "every day"\n',
            "voice.schedule: bad schedule 'every day': expected a cron expression of 5 fields",
        ),
        ('[sms]\nschedule = "61 * * * *"\n', "sms.schedule: bad schedule '61 * * * *'"),
        ('[balance]\nschedule = "* * * * * *"\n', "balance.schedule: bad schedule"),
        ("[voice]\ntech_prefixes = []\n", "voice.tech_prefixes: List should have at least 1"),
        (
            '[report]\nrecipients = ["finance"]\n',
            "report.recipients.0: 'finance' is not an email address",
        ),
        (
            '[report]\nrecipients = ["a@example.com, b@example.com"]\n',
            "report.recipients.0: 'a@example.com, b@example.com' is not an email address",
        ),
        ("[report]\nrecipients = []\n", "report.recipients: List should have at least 1"),
        ('[smtp]\nsender = "ratedeck"\n', "smtp.sender: 'ratedeck' is not an email address"),
        ('[smtp]\nhost = "smtp://mail.example.com"\n', "smtp.host: bad host"),
        ('[smtp]\nhost = ""\n', "smtp.host: bad host ''"),
        ("[smtp]\nport = 0\n", "smtp.port: Input should be greater than or equal to 1"),
        ("[smtp]\ntimeout_s = inf\n", "smtp.timeout_s: Input should be a finite number"),
        ("[api]\ntimeout_s = nan\n", "api.timeout_s: Input should be a finite number"),
        (
            "[api]\nbackoff_s = 5\nmax_backoff_s = 1\n",
            "api: max_backoff_s (1) is below backoff_s (5)",
        ),
        (
            '[balance]\nlow_balance_threshold = "NaN"\n',
            "balance.low_balance_threshold: Input should be a finite number",
        ),
        (
            '[balance]\nlow_balance_threshold = "0.123456789"\n',
            "balance.low_balance_threshold: Decimal input should have no more than 8 decimal",
        ),
        ('[report]\ncurrency = "usd"\n', "report.currency: 'usd': expected a three-letter ISO"),
        (  # plain `lookup` would refuse its own default duration
            "[report]\nreference_call_seconds = 1000000000\n",
            "report.reference_call_seconds: 1000000000 is too large: at most 999,999,999 seconds",
        ),
        (
            "[report]\nreference_call_seconds = 0\n",
            "report.reference_call_seconds: Input should be greater than 0",
        ),
        (
            '[emulator]\nstart_date = "2026-13-01"\n',
            "emulator.start_date: expected a date YYYY-MM-DD, got '2026-13-01'",
        ),
        (
            "[sms]\nchannels = [{ username = 'a', id = 1 }, { username = 'a', id = '1' }]\n",
            "sms.channels: duplicate channels: a:1",
        ),
        (
            "[sms]\nmax_reject_fraction = 1.5\n",
            "sms.max_reject_fraction: Input should be less than or equal to 1",
        ),
        (
            "[sms]\nmax_row_drop_fraction = -0.1\n",
            "sms.max_row_drop_fraction: Input should be greater than or equal to 0",
        ),
    ],
)
def test_bad_values_are_refused_in_one_line(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert str(caught.value).startswith(f"{path}: {message}")
    assert "\n" not in str(caught.value)
    assert caught.value.exit_code == 2


def test_paths_below_a_file_and_folders_for_files_are_refused(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    cases = {
        f'[paths]\ndata_dir = "{blocker}/data"\n': (
            f"paths.data_dir: {blocker}/data: {blocker} is a file, not a folder"
        ),
        f'[paths]\ndata_dir = "{blocker}"\n': f"paths.data_dir: {blocker} is a file, not a folder",
        f'[warehouse]\npath = "{tmp_path}"\n': f"warehouse.path: {tmp_path} is a folder",
        f'[report]\ntraffic_profile = "{tmp_path}/traffic.csv"\n': (
            f"report.traffic_profile: {tmp_path}/traffic.csv: no such file"
        ),
    }
    for text, message in cases.items():
        path = write(tmp_path, text)
        with pytest.raises(ConfigError) as caught:
            load_settings(path, env={})
        assert str(caught.value).startswith(f"{path}: {message}"), text


def test_an_environment_data_dir_below_a_file_is_refused(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="afile is a file, not a folder"):
        load_settings(env={"RATEDECK_DATA_DIR": str(blocker / "data")})


def test_smtp_credentials_are_checked_at_start_up(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_settings(env={"RATEDECK_SMTP_USER": "u"})
    assert str(caught.value) == (
        "built-in demo settings: smtp: RATEDECK_SMTP_PASSWORD is not set (SMTP login needs both)"
    )
    path = write(tmp_path, '[smtp]\nhost = "smtp.example.com"\nstarttls = false\n')
    with pytest.raises(ConfigError, match="refusing to send SMTP credentials to smtp.example.com"):
        load_settings(path, env={"RATEDECK_SMTP_USER": "u", "RATEDECK_SMTP_PASSWORD": "p"})


def test_good_values_still_load(tmp_path):
    profile = tmp_path / "traffic.csv"
    profile.write_text("prefix,minutes_per_month\n44,10\n")
    path = write(
        tmp_path,
        f"""
[voice]
schedule = "15 5 * * 1-5"
[sms]
schedule = "@daily"
channels = [{{ username = "a", id = 1 }}, {{ username = "a", id = 2 }}]
[report]
recipients = ["finance@example.com", "cfo+rates@sub.example.co.uk"]
traffic_profile = "{profile}"
currency = "EUR"
[smtp]
host = "127.0.0.1"
[emulator]
start_date = 2026-11-02
""",
    )
    settings = load_settings(path, env={"RATEDECK_DATA_DIR": str(tmp_path / "new" / "data")})
    assert settings.voice.schedule == "15 5 * * 1-5"
    assert settings.sms.schedule == "@daily"
    assert settings.report.recipients == ["finance@example.com", "cfo+rates@sub.example.co.uk"]
    assert settings.report.traffic_profile == profile
    assert settings.emulator.start_date == "2026-11-02"
    assert settings.smtp.host == "127.0.0.1"


def test_each_feed_has_its_own_limits_with_todays_defaults(tmp_path):
    defaults = load_settings(write(tmp_path, ""), env={})
    assert (defaults.voice.max_reject_fraction, defaults.voice.max_row_drop_fraction) == (0.05, 0.2)
    # SMS was judged by voice's reject limit; a channel's list may shrink to nothing
    assert (defaults.sms.max_reject_fraction, defaults.sms.max_row_drop_fraction) == (0.05, 0.5)

    path = write(tmp_path, "[sms]\nmax_reject_fraction = 0.5\nmax_row_drop_fraction = 0.3\n")
    settings = load_settings(path, env={})
    assert (settings.sms.max_reject_fraction, settings.sms.max_row_drop_fraction) == (0.5, 0.3)
    assert settings.voice.max_reject_fraction == 0.05


def test_cli_bad_schedule_is_one_line_exit_2(tmp_path, capsys):
    from pipeline.cli import main

    path = write(tmp_path, '[voice]\nschedule = "every day"\n')
    code = main(["--config", str(path), "run", "--select", "balance"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines() == [
        f"ratedeck: error: {path}: voice.schedule: bad schedule 'every day': expected a cron "
        "expression of 5 fields, e.g. '0 6 * * *'"
    ]


def test_reference_call_seconds_may_be_the_longest_call_lookup_prices(tmp_path):
    """The limit is the one lookup and cost hold to (pipeline.limits), so plain `lookup`
    prices its default duration whatever the setting says."""
    from pipeline.analytics import one_call
    from pipeline.limits import MAX_CALL_SECONDS

    path = write(tmp_path, f"[report]\nreference_call_seconds = {MAX_CALL_SECONDS}\n")
    assert load_settings(path, env={}).report.reference_call_seconds == MAX_CALL_SECONDS
    assert one_call.MAX_CALL_SECONDS == MAX_CALL_SECONDS == 999_999_999


def test_the_settings_import_no_layer_above_them():
    """settings.py sits below every layer: the call limit comes from pipeline.limits, which
    imports nothing, not from analytics."""
    root = Path(__file__).resolve().parents[3] / "pipeline"
    for name, allowed in (
        ("settings.py", {"pipeline.errors", "pipeline.limits"}),
        ("limits.py", set()),
    ):
        tree = ast.parse((root / name).read_text(encoding="utf-8"))
        imported = {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("pipeline")
        } | {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
            if alias.name.startswith("pipeline")
        }
        assert imported <= allowed, name
