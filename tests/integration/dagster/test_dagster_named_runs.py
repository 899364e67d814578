"""``ratedeck run`` (``orchestrate.run_pipeline``) launches the named jobs, so the runs it
records in the persistent Dagster instance sit on the jobs' pages of the UI, one per partition,
not under ``__ephemeral_asset_job__``; and Dagster's SQLite event log was held open only while
they ran."""

from __future__ import annotations

import sqlite3
from collections import Counter
from contextlib import closing
from pathlib import Path

from pipeline.orchestrate import persistent_instance, run_pipeline

PARTITION_TAG = "dagster/partition"


def test_run_records_the_named_jobs_in_the_persistent_instance(settings, api_warnings):
    instance = persistent_instance(settings)  # SQLite run storage under the data dir
    with api_warnings():
        summary = run_pipeline(settings, instance=instance)
    assert summary.ok, summary.failures

    runs = instance.get_runs()
    by_job = Counter(run.job_name for run in runs)
    assert by_job == {
        "voice_daily": len(settings.voice.tech_prefixes),
        "sms_daily": len(settings.sms.channels),
        "balance_hourly": 1,
        "price_change_report_job": 1,
    }
    partitions = sorted(
        run.tags.get(PARTITION_TAG) for run in runs if run.job_name == "voice_daily"
    )
    assert partitions == sorted(settings.voice.tech_prefixes)
    assert all(run.is_success for run in runs)

    # each run's event-log shard was created in WAL mode and held open only during its run
    # (pipeline/dagster_storage.py): once the last connection closed, the log was checkpointed
    shards = [Path(instance.event_log_storage.path_for_shard(run.run_id)) for run in runs]
    assert [shard for shard in shards if Path(f"{shard}-wal").exists()] == []
    assert [journal_mode(shard) for shard in shards] == ["wal"] * len(runs)


def journal_mode(path: Path) -> str:
    with closing(sqlite3.connect(path)) as con:
        return con.execute("PRAGMA journal_mode").fetchone()[0]
