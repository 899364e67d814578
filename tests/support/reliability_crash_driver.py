"""Test-only driver, run as a child process: loads a big voice deck through the stage functions
and stalls at a chosen point so the test can SIGKILL it there. Nothing in product code knows
about it: the stall is monkeypatched in here.

    python reliability_crash_driver.py MODE DATA_DIR READY_FILE ROWS

MODE ``transaction``: stalls inside the load transaction, after the rate history and the
snapshot row were written but before COMMIT. ``publish``: the load has committed, and the
publish stalls with the working copy's file linked to a temporary name beside the published
file, not yet renamed over it. ``refresh``: the load is published, and the publish stalls
halfway through bringing the spare (the file published before) up to date as the next working
copy.
Writes READY_FILE when it has reached the point, then sleeps until killed.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pipeline.warehouse.db as db
import pipeline.warehouse.publish as publish
import pipeline.warehouse.snapshot as warehouse_snapshot
from pipeline.landing import LandingZone
from pipeline.settings import Settings
from pipeline.stages.voice import load_voice_deck, normalise_voice_deck


def synthetic_deck(rows: int, price: str) -> bytes:
    lines = ["Destination,Prefix,Price,Billing Increments"]
    lines += [f"Destination {i},{1_000_000 + i},{price},60/1" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def stall(ready: Path) -> None:
    ready.write_text("ready", encoding="utf-8")
    while True:
        time.sleep(60)


def main(mode: str, data_dir: str, ready_file: str, rows: str) -> int:
    settings = Settings().with_overrides(paths={"data_dir": data_dir})
    ready = Path(ready_file)
    landed = LandingZone(settings.data_dir).store_bytes(
        "voice",
        "021001",
        synthetic_deck(int(rows), "0.0200"),
        ext="csv",
        fetched_at=datetime.now(UTC),
    )
    deck = normalise_voice_deck(settings, landed)
    print(landed.relative_path, flush=True)  # the test replays this file afterwards

    if mode == "transaction":
        insert_snapshot = warehouse_snapshot._insert_snapshot

        def insert_then_stall(*args, **kwargs):
            insert_snapshot(*args, **kwargs)
            stall(ready)

        warehouse_snapshot._insert_snapshot = insert_then_stall
    elif mode == "publish":

        def link_then_stall(source: Path, target: Path) -> None:
            os.link(source, target.with_name(f".{target.name}.{'0' * 32}.tmp"))
            stall(ready)

        db.link_over = link_then_stall
    elif mode == "refresh":
        copy_range = publish.copy_range

        def headers_then_stall(source_fd: int, target_fd: int, offset: int, count: int) -> int:
            copy_range(source_fd, target_fd, offset, count)  # the new headers, old blocks
            stall(ready)
            return count

        publish.copy_range = headers_then_stall
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    load_voice_deck(settings, deck)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
