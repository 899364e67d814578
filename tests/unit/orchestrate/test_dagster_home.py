"""The Dagster home ratedeck prepares: its own dagster.yaml is rewritten when older, a user's
is left alone (plain files in tmp_path: no Dagster instance, no run)."""

from __future__ import annotations

from pipeline.orchestrate import INSTANCE_CONFIG, INSTANCE_CONFIG_MARK, prepare_dagster_home
from pipeline.settings import load_settings


def test_an_older_ratedeck_instance_config_is_upgraded(tmp_path):
    """Homes written with step-level pools (a killed step's slot blocks every later run) are
    rewritten; a dagster.yaml the user wrote is left alone."""
    settings = load_settings(None, {"RATEDECK_DATA_DIR": str(tmp_path / "data")})
    config = settings.dagster_home / "dagster.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(
        f"{INSTANCE_CONFIG_MARK}: old\nconcurrency:\n  pools:\n    default_limit: 1\n"
    )
    prepare_dagster_home(settings)
    assert config.read_text() == INSTANCE_CONFIG
    assert "granularity: run" in INSTANCE_CONFIG

    config.write_text("telemetry:\n  enabled: false\n")
    prepare_dagster_home(settings)
    assert config.read_text() == "telemetry:\n  enabled: false\n"
