"""How many price changes (by type) one snapshot brought: for run summaries and Dagster metadata."""

from __future__ import annotations

from typing import Literal

import duckdb

from pipeline.warehouse.migrate import read_sql


def snapshot_change_counts(
    con: duckdb.DuckDBPyConnection, kind: Literal["voice", "sms"], scope: str, snapshot_id: int
) -> tuple[tuple[str, int], ...]:
    """``((change_type, count), ...)`` for the snapshot; empty for a baseline or replay."""
    if kind == "voice":
        query = read_sql("queries/snapshot_changes_voice.sql")
    else:
        query = read_sql("queries/snapshot_changes_sms.sql")
    rows = con.execute(query, [scope, snapshot_id]).fetchall()
    return tuple((change_type, int(count)) for change_type, count in rows)
