"""A settings file that cannot be read is one line naming it (exit 2), never a traceback; a
UTF-8 byte order mark is accepted; a bad value from the environment names its variable."""

from __future__ import annotations

import pytest

from pipeline.cli import main
from pipeline.errors import ConfigError
from pipeline.settings import load_settings


def _refusal(config, env=None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(config, env=env or {})
    assert caught.value.exit_code == 2
    return str(caught.value)


def test_a_folder_is_named_as_a_folder(tmp_path):
    assert _refusal(tmp_path) == f"{tmp_path}: is a folder, not a settings file"


def test_a_folder_in_ratedeck_config_too(tmp_path):
    refusal = _refusal(None, env={"RATEDECK_CONFIG": str(tmp_path)})
    assert refusal == f"{tmp_path}: is a folder, not a settings file"


def test_bytes_that_are_not_utf8_are_named(tmp_path):
    path = tmp_path / "ratedeck.toml"
    path.write_bytes(b"[report]\n# caf\xe9\n")  # Latin-1
    assert _refusal(path) == f"{path}: not UTF-8 text (byte 14): save the settings file as UTF-8"


def test_a_file_that_cannot_be_opened_is_named(tmp_path):
    path = tmp_path / "ratedeck.toml"
    path.symlink_to(path)  # a loop: ELOOP, whoever runs the test (chmod would not stop root)
    assert _refusal(path) == (
        f"{path}: cannot read the settings file: Too many levels of symbolic links"
    )


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "ratedeck.toml"
    path.write_bytes('\ufeff[voice]\ntech_prefixes = ["021001"]\n'.encode())
    assert load_settings(path, env={}).voice.tech_prefixes == ["021001"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("RATEDECK_DATA_DIR", "{file}/data", "RATEDECK_DATA_DIR (paths.data_dir): {file}/data: "),
        ("RATEDECK_WAREHOUSE", "{file}/w.duckdb", "RATEDECK_WAREHOUSE (warehouse.path): {file} "),
        ("COMMPEAK_BASE_URL", "ftp://x", "COMMPEAK_BASE_URL (api.base_url): bad base URL "),
    ],
)
def test_a_bad_value_from_the_environment_names_the_variable(tmp_path, variable, value, message):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    settings = tmp_path / "ratedeck.toml"
    settings.write_text("[report]\n")
    refusal = _refusal(settings, env={variable: value.format(file=a_file)})
    assert refusal.startswith(message.format(file=a_file)), refusal


def test_the_same_value_in_the_file_still_names_the_file(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    settings = tmp_path / "ratedeck.toml"
    settings.write_text(f"[paths]\ndata_dir = '{a_file}/data'\n")
    assert _refusal(settings).startswith(f"{settings}: paths.data_dir: {a_file}/data: ")


def test_the_cli_says_it_in_one_line(tmp_path, capsys):
    assert main(["--config", str(tmp_path), "lookup", "1"]) == 2
    assert capsys.readouterr() == (
        "",
        f"ratedeck: error: {tmp_path}: is a folder, not a settings file\n",
    )
