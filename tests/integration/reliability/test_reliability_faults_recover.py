"""Fault matrix, part 2: transient faults the pipeline must ride out.

Each run (``run_pipeline`` in-process, tiny backoff and a 1 s timeout from the settings) must
succeed after retrying, load exactly ONE new snapshot (no duplicate, nothing half-loaded), leave
no half-written file, and the emulator's request log must show the fault really happened.
"""

from __future__ import annotations

import logging

import pytest
from support.reliability import (
    TECH_PREFIX,
    dump_warehouse,
    make_settings,
    query,
    snapshot_count,
    temp_leftovers,
)

from pipeline.orchestrate import run_pipeline

DOWNLOAD = f"/rates/{TECH_PREFIX}/download"

# id, fault spec, statuses of the downloads in order (None: reset, no answer), the words of
# each retry warning the client logs
RECOVERED = [
    ("429-retry-after", "429:2@0.01", [429, 429, 200], ["429"] * 2),
    ("503", "503:2@0.01", [503, 503, 200], ["503"] * 2),
    ("500", "500:1", [500, 200], ["500"]),
    ("connection-reset", "reset:2", [None, None, 200], ["connection"] * 2),
    ("truncated-once", "truncate:1", [200, 200], ["body"]),  # the first body stops halfway
    ("slow-within-timeout", "slow:0.3", [200], []),  # 0.3 s < timeout_s 1: no retry
    # the first read times out; that request is logged by the emulator only when its 2 s are
    # up, so its statuses are not compared
    ("slow-beyond-timeout-once", "slow:2x1", None, ["timed out"]),
]


@pytest.mark.parametrize(
    ("spec", "statuses", "warnings"),
    [pytest.param(spec, st, w, id=name) for name, spec, st, w in RECOVERED],
)
@pytest.mark.slow  # a pipeline run per fault
def test_transient_fault_is_retried_and_loaded_once(
    spec, statuses, warnings, server, data_dir, dagster_instance, caplog
):
    settings = make_settings(data_dir, server.url)
    before = dump_warehouse(settings.warehouse_path)
    snapshots = snapshot_count(settings)
    server.set_faults(spec)

    with caplog.at_level(logging.WARNING, logger="pipeline.commpeak"):
        summary = run_pipeline(settings, ["voice"], instance=dagster_instance)

    assert summary.ok, [s.error for s in summary.failures]
    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == len(warnings), retries
    assert all(word in text for word, text in zip(warnings, retries, strict=True)), retries
    downloads = [r for r in server.request_log if r.path == DOWNLOAD]
    if statuses is not None:
        assert [r.status for r in downloads] == statuses
        assert downloads[0].fault is not None
    assert snapshot_count(settings) == snapshots + 1
    after = dump_warehouse(settings.warehouse_path)
    # same market day, same deck: the rate history is untouched, one snapshot row more
    changed = sorted(name for name in before if before[name] != after[name])
    assert changed == ["voice_snapshot"]
    assert len(after["voice_snapshot"]) == len(before["voice_snapshot"]) + 1
    assert temp_leftovers(data_dir) == []


def test_retries_then_a_new_market_day_loads_the_changes(server, data_dir, dagster_instance):
    """A 429 and a reset before the download of a day with price changes: the changes are
    loaded exactly once and the report outboxes them once."""
    settings = make_settings(data_dir, server.url)
    server.advance_day()
    server.set_faults("429:1@0.01,reset:1")
    summary = run_pipeline(settings, ["voice"], instance=dagster_instance)
    assert summary.ok, [s.error for s in summary.failures]
    history = dump_warehouse(settings.warehouse_path)
    assert len(history["voice_snapshot"]) == 2
    reports = query(settings.warehouse_path, "SELECT status, change_count FROM wh.report_log")
    assert len(reports) == 1 and reports[0][0] == "outboxed"
    assert len(history["report_change"]) == reports[0][1] > 0
    assert len(list(settings.outbox_dir.glob("*.eml"))) == 1
