"""Test-only driver, run as a child process: ``ratedeck`` with the voice load stalled inside its
transaction (after the rate history and snapshot row are written, before COMMIT), so the test
can SIGKILL a real ``ratedeck run`` there. Product code knows nothing of it.

    python reliability_cli_crash_driver.py READY_FILE [--at=WHERE] <ratedeck arguments...>

``--at=resources``: stalled instead while Dagster sets up the first run's resources, before
its first step starts; ``--at=run-success``: as Dagster records the first run's success.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pipeline.warehouse.snapshot as warehouse_snapshot
from pipeline.cli import main
from pipeline.defs.resources import WarehouseResource

AT_RESOURCES = "--at=resources"
AT_RUN_SUCCESS = "--at=run-success"


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


def stall_at_run_success(ready: Path) -> None:
    """The first time only, as Dagster records a run's success, until Dagster has taken the
    Ctrl-C (it records the rest of the run without looking at it again)."""
    import dagster as dg
    from dagster._utils.interrupts import check_captured_interrupt

    handle_new_event = dg.DagsterInstance.handle_new_event

    def stall_then_handle(self, event, *args, **kwargs):
        if event.is_dagster_event and event.dagster_event_type == dg.DagsterEventType.RUN_SUCCESS:
            if not ready.exists():
                ready.write_text("ready", encoding="utf-8")
                while not check_captured_interrupt():
                    time.sleep(0.05)
        return handle_new_event(self, event, *args, **kwargs)

    dg.DagsterInstance.handle_new_event = stall_then_handle


STALLS = {
    AT_RESOURCES: stall_in_resource_setup,
    AT_RUN_SUCCESS: stall_at_run_success,
}

if __name__ == "__main__":
    ready, args = Path(sys.argv[1]), sys.argv[2:]
    if args[:1] and args[0] in STALLS:
        STALLS[args[0]](ready)
        args = args[1:]
    else:
        stall_after_snapshot_insert(ready)
    sys.exit(main(args))
