"""What the demo's end-to-end tests share: a one-deck settings file, a read of its warehouse."""

from __future__ import annotations

from pathlib import Path

from pipeline.settings import load_settings
from pipeline.warehouse.db import Warehouse

# one voice tech prefix, no SMS: a demo day is a few Dagster runs
SMALL_DEMO_TOML = """\
[voice]
tech_prefixes = ["021001"]

[sms]
channels = []
"""


def query(data_dir: Path, sql: str, params: list | None = None) -> list[tuple]:
    """``sql`` on the published warehouse of the demo in ``data_dir``, read-only."""
    settings = load_settings(env={"RATEDECK_DATA_DIR": str(data_dir)})
    with Warehouse(settings).reader() as con:
        return con.execute(sql, params or []).fetchall()
