"""Faults through the real CLI (``ratedeck run`` in a child process): exit codes and the
one-line error on stderr; a refused tech prefix never reaches the API."""

from __future__ import annotations

import dagster as dg
import pytest
from reliability_e2e_support import Cli, cli_env, write_config
from reliability_support import TECH_PREFIX, dump_both, snapshot_count

from pipeline.orchestrate import prepare_dagster_home, run_pipeline
from pipeline.settings import load_settings


def error_lines(stderr: str) -> list[str]:
    """stderr without the client's retry warnings (logged at WARNING, one line each)."""
    return [line for line in stderr.splitlines() if "retrying in" not in line]


def test_cli_fails_with_one_line_then_recovers(cli, emulator):
    settings = load_settings(cli.config, cli.env)
    instance = dg.DagsterInstance.from_config(str(prepare_dagster_home(settings)))
    assert run_pipeline(settings, ["voice"], instance=instance).ok
    before = dump_both(settings)

    emulator.set_faults("401")
    failed = cli.run("run", "--select", "voice")

    assert failed.returncode == 1
    assert error_lines(failed.stderr) == [
        "ratedeck: error: 1 step(s) failed; first: voice 021001: GET /rates/021001/download: "
        "401 Unauthorized: HTTP Token: Access denied."
    ]
    assert dump_both(settings) == before

    emulator.set_faults("429:2@0.01,reset:1")
    recovered = cli.run("run", "--select", "voice")

    assert recovered.returncode == 0, recovered.stderr
    assert error_lines(recovered.stderr) == []
    assert len(recovered.stderr.splitlines()) == 3  # one warning per retry
    assert snapshot_count(settings, TECH_PREFIX) == 2


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
