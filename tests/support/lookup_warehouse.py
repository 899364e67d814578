"""Helpers for the lookup integration tests: rate history rows written straight into a real
DuckDB warehouse file."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl

JAN = datetime(2026, 1, 1, tzinfo=UTC)
JUN = datetime(2026, 6, 1, tzinfo=UTC)

VERSION_SCHEMA = {
    "tech_prefix": pl.String,
    "prefix": pl.String,
    "destination": pl.String,
    "price": pl.Decimal(18, 8),
    "initial_seconds": pl.Int32,
    "increment_seconds": pl.Int32,
    "valid_from": pl.Datetime("us", "UTC"),
    "valid_to": pl.Datetime("us", "UTC"),
}


def insert_versions(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    """rows: (tech_prefix, prefix, destination, price, a, b, valid_from, valid_to or None)."""
    frame = pl.DataFrame(
        [(tp, p, d, Decimal(str(price)), a, b, f, t) for tp, p, d, price, a, b, f, t in rows],
        schema=VERSION_SCHEMA,
        orient="row",
    )
    con.register("new_versions", frame.to_arrow())
    try:
        con.execute(
            "INSERT INTO voice_rate (tech_prefix, prefix, destination, price, initial_seconds,"
            " increment_seconds, valid_from, valid_to, first_seen_at, first_snapshot_id)"
            " SELECT *, valid_from, 1 FROM new_versions"
        )
    finally:
        con.unregister("new_versions")


STANDARD_HISTORY = [
    ("current", "44", "UK", "0.1", 1, 1, JAN, None),
    ("current", "4420", "London", "0.2", 60, 60, JAN, JUN),
    ("current", "4420", "London", "0.25", 60, 60, JUN, None),
    ("current", "442079", "London centre", "0.3", 30, 6, JAN, None),
    ("current", "449", "Gone", "0.9", 1, 1, JAN, JUN),
    ("021001", "44", "UK", "0.12345678", 60, 1, JAN, None),
    ("021001", "4420", "London", "0.3", 1, 1, JAN, None),
]


def standard_data_dir(path: Path, history: list[tuple] | None = None) -> Path:
    """``path`` made a data dir whose published warehouse holds ``history`` (rows as
    ``insert_versions`` takes them; default STANDARD_HISTORY), the file closed."""
    from pipeline.warehouse.migrate import apply_migrations

    path.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path / "warehouse.duckdb"))
    try:
        apply_migrations(con)
        insert_versions(con, STANDARD_HISTORY if history is None else history)
    finally:
        con.close()
    return path


def costed_rows(path: Path) -> list[tuple[str, str | None, Decimal | None]]:
    """(tech_prefix, matched prefix, cost) per row of a costed CSV (``ratedeck cost``)."""
    frame = pl.read_csv(path, infer_schema=False)
    return [
        (tp, prefix, None if cost is None else Decimal(cost))
        for tp, prefix, cost in frame.select("tech_prefix", "matched_prefix", "cost").iter_rows()
    ]


def cost_with_command(folder: Path, calls: list[tuple[str, int]]) -> pl.DataFrame:
    """``ratedeck cost`` (in-process, ``--no-cache``, ``--tech-prefix current``) of ``calls``
    (number, duration), files in ``folder``; the costed rows as text, the rejects in
    ``folder / "costed.rejects.csv"``. Point ``RATEDECK_DATA_DIR`` at the data dir first."""
    from pipeline.cli import main

    source, out = folder / "calls.csv", folder / "costed.csv"
    pl.DataFrame(calls, schema=["number", "duration"], orient="row").write_csv(source)
    argv = ["cost", str(source), "--out", str(out), "--no-cache", "--tech-prefix", "current"]
    assert main(argv) == 0
    return pl.read_csv(out, infer_schema=False)
