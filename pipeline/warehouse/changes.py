"""How many price changes (by type) one snapshot brought: for run summaries and Dagster metadata."""

from __future__ import annotations

import duckdb

from pipeline.warehouse.migrate import read_sql
from pipeline.warehouse.snapshot import SnapshotSpec


def snapshot_change_counts(
    con: duckdb.DuckDBPyConnection, spec: SnapshotSpec, source: str, snapshot_id: int
) -> tuple[tuple[str, int], ...]:
    """``((change_type, count), ...)`` for the snapshot; empty for a baseline or replay."""
    rows = con.execute(read_sql(spec.changes_sql), [source, snapshot_id]).fetchall()
    return tuple((change_type, int(count)) for change_type, count in rows)
