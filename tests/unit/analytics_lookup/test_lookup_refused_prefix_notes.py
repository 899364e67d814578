"""lookup's note on a prefix the last download refused, on a warehouse published before
ingest_reject named refused prefixes (migration 109): no note, no error."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
from support.migrations import apply_schema_before

from pipeline.analytics.one_call import LookupResult, refused_prefix_notes


def test_a_warehouse_from_before_refused_keys_gives_no_note():
    con = duckdb.connect()
    apply_schema_before(con, "110_refused_rows_keep_price.sql")
    result = LookupResult(
        "current", "353891234567", 60, datetime(2026, 11, 3, tzinfo=UTC), matched=False
    )

    assert refused_prefix_notes(con, [result]) == []
