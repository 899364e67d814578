"""[reconcile] settings: defaults (the emulator's export layout), checked at load time, one
line naming the key."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pipeline.emulator.cdr import CARRIER_HEADER
from pipeline.errors import ConfigError
from pipeline.settings import load_settings


def settings_from(tmp_path, text: str):
    path = tmp_path / "ratedeck.toml"
    path.write_text(text)
    return load_settings(path, env={})


def test_defaults_are_2_percent_2_seconds_and_the_portal_header(tmp_path):
    reconcile = settings_from(tmp_path, "").reconcile
    assert (reconcile.tolerance_pct, reconcile.match_tolerance_s) == (Decimal(2), 2)
    mapped = set(reconcile.columns.model_dump().values())
    assert mapped == set(CARRIER_HEADER) - {"Billing Increments"}


def test_a_tolerance_and_a_mapped_column(tmp_path):
    reconcile = settings_from(
        tmp_path, '[reconcile]\ntolerance_pct = 0.5\n[reconcile.columns]\ncost = "Charge"\n'
    ).reconcile
    assert reconcile.tolerance_pct == Decimal("0.5") and reconcile.columns.cost == "Charge"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[reconcile]\ntolerance_pct = -1\n", "reconcile.tolerance_pct: Input should be greater"),
        ("[reconcile]\nmatch_tolerance_s = 1.5\n", "reconcile.match_tolerance_s:"),
        ('[reconcile.columns]\nrate = "Cost"\n', "column 'Cost' is mapped to more than one"),
        ('[reconcile.columns]\nlength = "L"\n', "reconcile.columns.length: unknown setting"),
    ],
)
def test_bad_values_are_one_line_naming_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as caught:
        settings_from(tmp_path, text)
    assert message in str(caught.value) and "\n" not in str(caught.value)
