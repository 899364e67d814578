"""The persistent Dagster instance (SQLite here; Postgres in tests/e2e/deploy): the pools exist
with their limits before any run is queued, and a limit an operator changed is kept."""

from __future__ import annotations

from pipeline.defs.common import API_POOL, CDR_POOL, WAREHOUSE_POOL
from pipeline.deploy import prepare_deployment
from pipeline.orchestrate import persistent_instance


def pool_limits(settings) -> dict[str, int]:
    instance = persistent_instance(settings)
    try:
        storage = instance.event_log_storage
        return {
            pool: storage.get_concurrency_info(pool).slot_count
            for pool in storage.get_concurrency_keys()
        }
    finally:
        instance.dispose()


def test_pools_exist_before_the_first_run(settings):
    home = prepare_deployment(settings)

    assert (home / "dagster.yaml").is_file()
    # two CDR days price at once; their commits take turns on the warehouse's writer lock
    assert pool_limits(settings) == {WAREHOUSE_POOL: 1, API_POOL: 1, CDR_POOL: 2}


def test_a_changed_limit_is_kept(settings):
    instance = persistent_instance(settings)
    instance.event_log_storage.set_concurrency_slots(API_POOL, 3)
    instance.dispose()

    assert pool_limits(settings) == {WAREHOUSE_POOL: 1, API_POOL: 3, CDR_POOL: 2}


def test_two_processes_creating_the_pools_at_once_both_start(settings, monkeypatch):
    """The race two ``ratedeck run`` started together ran into (CI, 2026-12-07): both read that
    the pools were missing, the other process created them first, and Dagster's storage
    refused this one's insert (sqlite: UNIQUE constraint failed: concurrency_limits.
    concurrency_key). Replayed at the moment it happened: the other process, a real instance
    on the same home, creates the pools, then the refused insert raises as it did."""
    from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
    from sqlalchemy.exc import IntegrityError

    real = SqlEventLogStorage.initialize_concurrency_limit_to_default
    raced = []

    def insert_after_the_other_process(self, pool):
        if raced:
            return real(self, pool)
        raced.append(pool)
        persistent_instance(settings).dispose()  # the other `ratedeck run`, first to insert
        raise IntegrityError(
            "INSERT INTO concurrency_limits ...",
            {},
            Exception("UNIQUE constraint failed: concurrency_limits.concurrency_key"),
        )

    monkeypatch.setattr(
        SqlEventLogStorage,
        "initialize_concurrency_limit_to_default",
        insert_after_the_other_process,
    )
    persistent_instance(settings).dispose()  # starts, as the other one did
    monkeypatch.undo()
    assert raced  # the race was replayed
    assert pool_limits(settings) == {WAREHOUSE_POOL: 1, API_POOL: 1, CDR_POOL: 2}
