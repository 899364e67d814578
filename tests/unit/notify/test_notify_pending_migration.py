"""A warehouse made before pending deliveries existed gains the tables on its next writer,
keeping its report history."""

from __future__ import annotations

import duckdb
from support.migrations import apply_schema_before

from pipeline.warehouse.migrate import apply_migrations, sql_files

NEW = "060_pending_delivery.sql"


def test_an_older_warehouse_is_migrated_in_place(tmp_path):
    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    apply_schema_before(con, NEW)  # what an older ratedeck applied
    con.execute("INSERT INTO report_change VALUES ('voice', 'c1', 1)")

    # the pending-delivery tables and every later migration, in name order
    assert apply_migrations(con) == sorted(p.name for p in sql_files("schema") if p.name >= NEW)

    assert con.execute("SELECT * FROM report_change").fetchall() == [("voice", "c1", 1)]
    assert con.execute("SELECT count(*) FROM pending_delivery").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM pending_delivery_change").fetchall() == [(0,)]
    assert apply_migrations(con) == []  # once
    con.close()
