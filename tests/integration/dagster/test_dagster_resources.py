"""Issue 15 item 1: the client, the warehouse and the mailer are Dagster resources that a run
can override (launchpad run config) without editing the settings; secrets are ``EnvVar``s; the
definitions load lazily, as the code location ``ratedeck``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.remote_representation.external_data import RepositorySnap
from dagster._core.workspace.load_target import PyProjectFileTarget
from support.smtp import RecordingHandler, running_smtp

from pipeline.defs import build_definitions
from pipeline.warehouse.db import Warehouse

REPO = Path(__file__).resolve().parents[3]
REFUSED = "http://127.0.0.1:9"  # discard port: nothing listens, the connection is refused


def materialize_voice(defs: dg.Definitions, run_config: dict | None = None):
    return materialize(defs, "voice", "current", run_config, dg.DagsterInstance.ephemeral())


def materialize(
    defs: dg.Definitions,
    group: str,
    partition: str | None,
    run_config: dict | None,
    instance: dg.DagsterInstance,
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        list(defs.assets or []),
        selection=dg.AssetSelection.groups(group),
        partition_key=partition,
        resources=defs.resources,
        run_config=run_config,
        instance=instance,
        raise_on_error=False,
    )


def root_cause(result: dg.ExecuteInProcessResult):
    [failure] = [e for e in result.all_events if e.is_step_failure]
    error = failure.step_failure_data.error
    while error.cause is not None:
        error = error.cause
    return error


def snapshot_rows(settings) -> list[tuple]:
    with Warehouse(settings).reader() as con:
        return con.execute("SELECT tech_prefix, row_count FROM voice_snapshot").fetchall()


def test_a_run_overrides_the_api_url_and_data_dir_without_editing_settings(
    make_settings, emulator_at, market_days, tmp_path, api_warnings
):
    settings = make_settings(api={"base_url": REFUSED}, sms={"channels": []})
    defs = build_definitions(settings)
    assert not materialize_voice(defs).success  # as configured: nothing answers there

    elsewhere = tmp_path / "elsewhere"
    launchpad = {
        "resources": {
            "commpeak": {"config": {"base_url": emulator_at.url}},
            "warehouse": {"config": {"data_dir": str(elsewhere)}},
        }
    }
    with api_warnings():
        result = materialize_voice(defs, launchpad)
    assert result.success

    deck = emulator_at.market.day(market_days[0]).voice_deck("current")
    moved = settings.with_overrides(paths={"data_dir": str(elsewhere)})
    assert snapshot_rows(moved) == [("current", len(deck))]
    assert list((elsewhere / "raw" / "voice").rglob("*.csv"))  # landed in the run's data dir
    assert not Warehouse(settings).published_path.exists()  # the configured one: untouched


def test_a_run_sends_the_report_through_an_overridden_smtp_server(
    make_settings, emulator_at, market_days
):
    settings = make_settings(voice={"tech_prefixes": ["current"]}, smtp={"host": None})
    defs = build_definitions(settings)  # no SMTP host: the report would go to the outbox
    instance = dg.DagsterInstance.ephemeral()
    assert materialize(defs, "voice", "current", None, instance).success
    emulator_at.set_market_date(market_days[1])
    assert materialize(defs, "voice", "current", None, instance).success

    handler = RecordingHandler()
    with running_smtp(handler) as server:
        mailer = {"host": "127.0.0.1", "port": server.port, "starttls": False}
        launchpad = {"resources": {"mailer": {"config": mailer}}}
        report = materialize(defs, "report", None, launchpad, instance)
    assert report.success
    [sent] = report.asset_materializations_for_node("price_change_report")
    assert sent.metadata["target"].value == f"smtp://127.0.0.1:{server.port}"
    [email] = handler.emails
    assert email["Subject"] == sent.metadata["subject"].value
    assert not settings.outbox_dir.exists() or not any(settings.outbox_dir.iterdir())


def test_a_bad_override_is_one_line_naming_the_resource(make_settings, emulator_at):
    defs = build_definitions(make_settings(sms={"channels": []}))
    launchpad = {"resources": {"commpeak": {"config": {"base_url": "ftp://127.0.0.1"}}}}
    result = materialize_voice(defs, launchpad)
    assert not result.success
    assert (
        root_cause(result)
        .message.splitlines()[0]
        .endswith(
            "Dagster resource commpeak: api.base_url: bad base URL 'ftp://127.0.0.1': "
            "expected https://host[:port]"
        )
    )


# RepositorySnap (what the UI is sent) reads a deprecated schedule property itself
@pytest.mark.filterwarnings("ignore:Property `ScheduleDefinition.environment_vars`")
def test_the_api_key_is_an_env_var_never_a_value_in_the_definitions(
    make_settings, emulator_at, monkeypatch
):
    settings = make_settings(sms={"channels": []})
    key = settings.secrets.api_key.get_secret_value()
    monkeypatch.setenv("COMMPEAK_API_KEY", key)  # where load_settings would have read it
    defs = build_definitions(settings)

    resource = defs.resources["commpeak"]
    assert isinstance(resource.api_key, dg.EnvVar)
    assert resource.api_key.env_var_name == "COMMPEAK_API_KEY"
    shown = dg.serialize_value(RepositorySnap.from_def(defs.get_repository_def()))
    assert "COMMPEAK_API_KEY" in shown and key not in shown

    # resolved when the run starts, from the run's environment (over the settings' key)
    monkeypatch.setenv("COMMPEAK_API_KEY", "not-the-key")
    refused = materialize_voice(defs)
    assert root_cause(refused).cls_name == "AuthenticationError"
    monkeypatch.setenv("COMMPEAK_API_KEY", key)
    assert materialize_voice(defs).success


def test_importing_the_definitions_reads_no_settings(tmp_path):
    missing = tmp_path / "missing.toml"
    script = (
        "import pipeline.definitions as d\n"
        "print('imported')\n"
        "from pipeline.errors import ConfigError\n"
        "try:\n"
        "    d.defs()\n"
        "except ConfigError as exc:\n"
        "    print(f'built: {exc}')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RATEDECK_", "COMMPEAK_"))}
    env["RATEDECK_CONFIG"] = str(missing)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["imported", f"built: {missing}: settings file not found"]


def test_the_code_location_is_named_ratedeck_in_pyproject(monkeypatch):
    monkeypatch.chdir(REPO)  # `dagster dev` without -w reads ./pyproject.toml
    [origin] = PyProjectFileTarget("pyproject.toml").create_origins()
    assert origin.location_name == "ratedeck"
