"""Test-only driver, run as a child process: ``ratedeck`` with the voice load stalled inside its
transaction (after the rate history and snapshot row are written, before COMMIT), so the test
can SIGKILL a real ``ratedeck run`` there. Product code knows nothing of it.

    python reliability_cli_crash_driver.py READY_FILE [--at=resources] <ratedeck arguments...>

``--at=resources``: stalled instead while Dagster sets up the first run's resources, before
its first step starts.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pipeline.warehouse.snapshot as warehouse_snapshot
from pipeline.cli import main
from pipeline.defs.resources import WarehouseResource

AT_RESOURCES = "--at=resources"


def stall_after_snapshot_insert(ready: Path) -> None:
    insert_snapshot = warehouse_snapshot._insert_snapshot

    def insert_then_stall(*args, **kwargs):
        insert_snapshot(*args, **kwargs)
        ready.write_text("ready", encoding="utf-8")
        while True:
            time.sleep(60)

    warehouse_snapshot._insert_snapshot = insert_then_stall


def stall_in_resource_setup(ready: Path) -> None:
    """The first time only, until the Ctrl-C (Dagster raises it there as its interruption
    error); later setups go on, so a run that did not stop there shows as one going on."""

    def stall(self, context) -> None:
        if ready.exists():
            return
        ready.write_text("ready", encoding="utf-8")
        while True:
            time.sleep(60)

    WarehouseResource.setup_for_execution = stall  # Dagster calls it as it sets up a step


if __name__ == "__main__":
    ready, args = Path(sys.argv[1]), sys.argv[2:]
    if args[:1] == [AT_RESOURCES]:
        stall_in_resource_setup(ready)
        args = args[1:]
    else:
        stall_after_snapshot_insert(ready)
    sys.exit(main(args))
