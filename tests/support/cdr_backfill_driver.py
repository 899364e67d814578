"""Test-only driver, run as a child process: one day of a CDR backfill as a Dagster run
worker costs it (``stage_day`` then ``commit_day``), with a barrier between the two steps so
that two drivers price their days at the same time and commit after both have read.

    python cdr_backfill_driver.py DATA_DIR DAY STAGED_FILE GO_FILE [kill-in-commit]

Writes STAGED_FILE once the day is priced (staged), waits for GO_FILE, commits the recost and
prints the outcome as one JSON line. ``kill-in-commit``: SIGKILLs itself inside the commit's
transaction, right after the recost updated the day's costed calls (nothing in product code
knows about it: the kill is monkeypatched in here).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the support package

import pipeline.warehouse.cdr as warehouse_cdr
from pipeline.stages.cdr import commit_day, stage_day
from pipeline.warehouse.db import Warehouse
from support.cdr import cdr_settings


def kill_after_the_recost_update() -> None:
    real = warehouse_cdr.execute_named

    def execute_then_die(con, sql, params):
        result = real(con, sql, params)
        if sql.lstrip().startswith("-- A recost replaces"):
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    warehouse_cdr.execute_named = execute_then_die


def main(data_dir: str, day: str, staged_file: str, go_file: str, *mode: str) -> int:
    settings = cdr_settings(Path(data_dir))
    staged = stage_day(settings, date.fromisoformat(day), recost=True)
    Path(staged_file).write_text("staged", encoding="utf-8")
    deadline = time.monotonic() + 120
    while not Path(go_file).exists():
        if time.monotonic() > deadline:
            return 3
        time.sleep(0.01)
    if "kill-in-commit" in mode:
        kill_after_the_recost_update()
    with Warehouse(settings).writer() as con:
        costing = commit_day(con, settings, staged, who=f"driver {day}", why="backfill")
    print(json.dumps({k: str(v) for k, v in vars(costing).items()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
