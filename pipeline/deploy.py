"""``python -m pipeline.deploy``: prepare the Dagster home of a deployment, once, before its
code server, webserver and daemon start (and again after a settings change).

It writes ``<data_dir>/dagster_home/dagster.yaml`` from the settings (pools; with
``[dagster] postgres_url`` the storage in PostgreSQL, the password by ``env:`` reference),
checks that the PostgreSQL server takes our login, and creates the pools' limits, so that the
first schedule tick already runs one warehouse writer at a time. Prints the Dagster home, to be
exported as ``DAGSTER_HOME`` for the three processes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.errors import RatedeckError
from pipeline.orchestrate import persistent_instance
from pipeline.settings import Settings, load_settings


def prepare_deployment(settings: Settings) -> Path:
    """The Dagster home, ready: dagster.yaml written, storage reachable, pools limited."""
    instance = persistent_instance(settings)
    instance.dispose()
    return settings.dagster_home.resolve()


def main() -> int:
    try:
        home = prepare_deployment(load_settings())
    except RatedeckError as exc:
        print(f"ratedeck: error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(home)
    return 0


if __name__ == "__main__":
    sys.exit(main())
