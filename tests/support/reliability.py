"""Helpers of the reliability tests, integration and end-to-end (``support.reliability``).

* ``dump_warehouse(path)``: every table of a DuckDB file, every row, in a stable order: two
  dumps are equal only if nothing at all changed.
* ``make_settings(...)``: settings for one emulator run in a data dir (one tech prefix, no SMS,
  tiny timeouts and backoff so faults resolve in milliseconds).
* ``temp_leftovers(data_dir)``: half-written files a failed download or publish left behind.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
from pydantic import SecretStr

from pipeline.settings import Settings

API_KEY = "reliability-key-0042"
TECH_PREFIX = "021001"
MARKET_START = date(2026, 11, 1)
FAST_API = {
    "timeout_s": 1.0,
    "max_retries": 3,
    "backoff_s": 0.01,
    "max_backoff_s": 0.05,
}


def make_settings(data_dir: Path, base_url: str, **sections: dict) -> Settings:
    overrides = {
        "api": {"base_url": base_url, **FAST_API, **sections.pop("api", {})},
        "paths": {"data_dir": str(data_dir)},
        "voice": {"tech_prefixes": [TECH_PREFIX], **sections.pop("voice", {})},
        "sms": {"channels": []},
        **sections,
    }
    settings = Settings().with_overrides(**overrides)
    secrets = settings.secrets.model_copy(update={"api_key": SecretStr(API_KEY)})
    return settings.model_copy(update={"secrets": secrets})


def dump_warehouse(path: Path) -> dict[str, list[tuple]]:
    """table name -> all its rows, ordered; read through a read-only ATTACH."""
    con = duckdb.connect()
    try:
        con.execute("ATTACH ? AS wh (READ_ONLY)", [str(path)])
        names = [
            row[0]
            for row in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'wh' ORDER BY 1"
            ).fetchall()
        ]
        # names come from the catalog, quoted: not user input
        return {
            name: con.execute(f'SELECT * FROM wh."{name}" ORDER BY ALL').fetchall()  # noqa: S608
            for name in names
        }
    finally:
        con.close()


def dump_both(settings: Settings) -> tuple[dict, dict]:
    """(published, working copy) dumps."""
    return dump_warehouse(settings.warehouse_path), dump_warehouse(
        settings.state_dir / "warehouse.duckdb"
    )


def query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    """One read-only query against a warehouse file (tables as ``wh.<name>``)."""
    con = duckdb.connect()
    try:
        con.execute("ATTACH ? AS wh (READ_ONLY)", [str(path)])
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def snapshot_count(settings: Settings, tech_prefix: str = TECH_PREFIX) -> int:
    sql = "SELECT count(*) FROM wh.voice_snapshot WHERE tech_prefix = ?"
    return query(settings.warehouse_path, sql, [tech_prefix])[0][0]


def temp_leftovers(data_dir: Path) -> list[Path]:
    """Dot-files (staging downloads, .part files, publish copies) anywhere under the data dir,
    except the Dagster home's own files."""
    return sorted(
        p
        for p in data_dir.rglob(".*")
        if p.is_file() and "dagster_home" not in p.parts and p.name != ".ratedeck-demo"
    )


def is_one_line(text: str | None) -> bool:
    return bool(text) and "\n" not in text and "Traceback" not in text


PIPELINE_DIR = Path(__file__).resolve().parents[2] / "pipeline"


def pipeline_noise(stderr: str) -> list[str]:
    """Lines of captured stderr that the pipeline (or Dagster inside it) printed: tracebacks
    through pipeline code, Dagster's event log. (The emulator's own socketserver may print a
    traceback when a client hangs up on it: harness noise, not the pipeline's.)"""
    return [
        line
        for line in stderr.splitlines()
        if str(PIPELINE_DIR) + "/" in line
        and "/commpeak/emulator/" not in line
        or " - dagster - " in line
        or "STEP_FAILURE" in line
    ]
