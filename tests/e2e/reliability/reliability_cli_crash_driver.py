"""Test-only driver, run as a child process: ``ratedeck`` with the voice load stalled inside its
transaction (after the rate history and snapshot row are written, before COMMIT), so the test
can SIGKILL a real ``ratedeck run`` there. Product code knows nothing of it.

    python reliability_cli_crash_driver.py READY_FILE <ratedeck arguments...>
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pipeline.warehouse.snapshot as warehouse_snapshot
from pipeline.cli import main


def stall_after_snapshot_insert(ready: Path) -> None:
    insert_snapshot = warehouse_snapshot._insert_snapshot

    def insert_then_stall(*args, **kwargs):
        insert_snapshot(*args, **kwargs)
        ready.write_text("ready", encoding="utf-8")
        while True:
            time.sleep(60)

    warehouse_snapshot._insert_snapshot = insert_then_stall


if __name__ == "__main__":
    stall_after_snapshot_insert(Path(sys.argv[1]))
    sys.exit(main(sys.argv[2:]))
