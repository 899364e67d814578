"""The hand-written column lists of analysts.md name every column their table or view has
(warehouse.md, generated from the catalog, is complete by construction; these lists were not:
``loaded_at``, ``email``, ``withdrawn_at`` and others were missing)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from pipeline.warehouse.migrate import apply_migrations

ANALYSTS = Path(__file__).resolve().parents[3] / "docs" / "analysts.md"
# the rows of analysts.md's tables that list their columns (others describe what a view
# holds, or point to another page)
LISTED = [
    "voice_snapshot",
    "voice_rate",
    "voice_deck_alias",
    "ingest_reject",
    "sms_snapshot",
    "sms_rate",
    "sms_rate_change",
    "mcc_mnc",
    "balance_snapshot",
    "balance_daily",
    "balance_runway",
    "balance_alert_log",
]


@pytest.fixture(scope="module")
def columns() -> dict[str, list[str]]:
    with duckdb.connect() as con:
        apply_migrations(con)
        rows = con.execute(
            "SELECT table_name, list(column_name ORDER BY ordinal_position)"
            " FROM information_schema.columns WHERE list_contains(?, table_name)"
            " GROUP BY table_name",
            [LISTED],
        ).fetchall()
    return dict(rows)


def listing(name: str) -> str:
    """The row of analysts.md's table that describes ``name``."""
    [row] = re.findall(
        rf"^\| `{name}`(?: \((?:view|table macro)\))? \|.*$", ANALYSTS.read_text(), re.M
    )
    return row


@pytest.mark.parametrize("name", LISTED)
def test_every_column_is_listed(columns, name):
    row = listing(name)
    assert [c for c in columns[name] if f"`{c}`" not in row] == []
