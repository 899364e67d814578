"""Faults through the real CLI (``ratedeck run`` in a child process): exit codes and the
one-line error on stderr; a refused tech prefix never reaches the API."""

from __future__ import annotations

import dagster as dg
import pytest
from support.reliability import TECH_PREFIX, dump_both, snapshot_count
from support.reliability_cli import Cli, cli_env, write_config

from pipeline.orchestrate import prepare_dagster_home, run_pipeline
from pipeline.settings import load_settings

pytestmark = pytest.mark.slow  # `ratedeck run` in a subprocess per fault


def test_cli_fails_with_one_line_and_changes_nothing(cli, emulator):
    """Two faults in one run: 401 on 021001's download, a row-count collapse on 021002's."""
    write_config(cli.config, [TECH_PREFIX, "021002"])
    settings = load_settings(cli.config, cli.env)
    instance = dg.DagsterInstance.from_config(str(prepare_dagster_home(settings)))
    assert run_pipeline(settings, ["voice"], instance=instance).ok
    before = dump_both(settings)

    emulator.set_faults("401/rates/021001/download,collapse/rates/021002/download")
    failed = cli.run("run", "--select", "voice")

    assert failed.returncode == 1
    assert failed.stderr.splitlines() == [
        "ratedeck: error: 2 step(s) failed; first: voice 021001: GET /rates/021001/download: "
        "401 Unauthorized: HTTP Token: Access denied."
    ]
    (collapse,) = [line for line in failed.stdout.splitlines() if "021002" in line]
    assert "FAILED" in collapse and "check row_count_not_collapsed failed" in collapse
    assert dump_both(settings) == before

    emulator.set_faults(None)  # the next run (in-process: the CLI's exit 0 is shown elsewhere)
    assert run_pipeline(settings, ["voice"], instance=instance).ok
    assert [snapshot_count(settings, tp) for tp in (TECH_PREFIX, "021002")] == [2, 2]


@pytest.mark.parametrize("bad", ["../customer", "021001/../x"])
def test_cli_refuses_a_bad_tech_prefix_before_any_request(bad, tmp_path, emulator):
    config = write_config(tmp_path / "bad.toml", [bad])
    env = cli_env(emulator.url, tmp_path / "data")

    refused = Cli(config, env, tmp_path / "data").run("run")

    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        f"ratedeck: error: {config}: voice.tech_prefixes.0: "
        f"bad tech prefix {bad!r}: must be 'current' or digits"
    ]
    assert emulator.request_log == []
    assert not (tmp_path / "data").exists()
