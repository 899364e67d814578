"""Dagster's SQLite event log, held open while ``ratedeck run`` and the demo run jobs in-process.

Dagster's SQLite event log (the default storage of a Dagster home) opens a connection for every
event it writes and closes it after the commit. SQLite in WAL mode checkpoints the write-ahead
log into the database and deletes it when the *last* connection to a database closes, so with
no other connection, every event pays a checkpoint and a new log on top of its commit: about
3x the commit alone on this project's machines, most of the demo's time. A read connection
held open per database for as long as the runs go keeps the log in place, and each event is
one commit, which still reaches the disk as before (SQLite's default synchronous=FULL): nothing
is less durable. The log is checkpointed when the held connection closes, or by SQLite on its
own once it grows past 1000 pages.

Other storage (Postgres, an ephemeral instance) is left alone: holding is an optimisation only,
and a failure to hold is ignored (Dagster's own writes then report any real problem).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager

import dagster as dg
from dagster._core.storage.event_log import SqliteEventLogStorage

# the event log's cross-run shard (asset and check events), next to one shard per run
INDEX_SHARD = "index"
_log = logging.getLogger(__name__)


@contextmanager
def event_log_held(instance: dg.DagsterInstance | None, shard: str) -> Iterator[None]:
    """Hold one event-log database (``INDEX_SHARD`` or a run id) open for the block.

    A run's shard does not exist before its run: it is created here, in WAL mode, and Dagster's
    own ``run_connection`` creates its tables, as it would at the run's first event."""
    storage = instance.event_log_storage if instance is not None else None
    if not isinstance(storage, SqliteEventLogStorage):
        yield
        return
    try:
        held = _open_shard(storage, shard)
    except Exception as exc:  # an optimisation: never the reason a run fails
        _log.debug("event log shard %s not held open: %s", shard, exc)
        yield
        return
    with closing(held):
        yield


def _open_shard(storage: SqliteEventLogStorage, shard: str) -> sqlite3.Connection:
    held = sqlite3.connect(storage.path_for_shard(shard), isolation_level=None)
    try:
        # The journal mode Dagster sets once it has created a shard's tables; set first, on
        # the new, empty file, it covers the creation too: some forty DDL commits, each one a
        # journal created, synced and deleted (and the folder synced) in the default mode.
        held.execute("PRAGMA journal_mode=WAL").fetchall()
        with storage.run_connection(shard):  # Dagster creates the shard's tables, as it would
            pass
        # a first read maps the WAL index: from then on this connection counts as open
        held.execute("SELECT count(*) FROM sqlite_master").fetchall()
    except BaseException:
        held.close()
        raise
    return held
