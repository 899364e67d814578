"""[cdr] settings: checked at load time, one line naming the key."""

from __future__ import annotations

import pytest

from pipeline.errors import ConfigError
from pipeline.settings import load_settings


def settings_from(tmp_path, text: str):
    path = tmp_path / "ratedeck.toml"
    path.write_text(text)
    return load_settings(path, env={})


def test_defaults_route_calls_to_the_first_tech_prefix(tmp_path):
    settings = settings_from(tmp_path, '[voice]\ntech_prefixes = ["021001", "current"]\n')
    assert settings.cdr.folder is None and settings.cdr.format == "asterisk"
    assert settings.cdr_default_tech_prefix == "021001"


def test_generic_columns_and_a_zone(tmp_path):
    settings = settings_from(
        tmp_path,
        '[cdr]\nformat = "generic"\ntimezone = "Europe/Dublin"\ndefault_tech_prefix = "021002"\n'
        '[cdr.columns]\nnumber = "dst"\ncall_id = "id"\n',
    )
    assert (settings.cdr.columns.number, settings.cdr.columns.call_id) == ("dst", "id")
    assert settings.cdr_default_tech_prefix == "021002"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[cdr]\ntimezone = "Mars/Olympus"\n', "cdr.timezone: unknown time zone 'Mars/Olympus'"),
        ('[cdr]\nformat = "cisco"\n', "cdr.format: Input should be 'asterisk'"),
        ('[cdr]\ndefault_tech_prefix = "0x1"\n', "cdr.default_tech_prefix: bad tech prefix"),
        ('[cdr.columns]\nduration = "d"\n', "cdr.columns.duration: unknown setting"),
    ],
)
def test_bad_values_are_one_line_naming_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as caught:
        settings_from(tmp_path, text)
    assert message in str(caught.value) and "\n" not in str(caught.value)
