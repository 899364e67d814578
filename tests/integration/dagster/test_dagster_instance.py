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
