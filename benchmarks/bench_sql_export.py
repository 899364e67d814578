"""``ratedeck sql`` writing a large result: CSV and Parquet into ``--out FILE``, and CSV on
stdout, each run as a user runs it (its own process, start-up included): wall and CPU seconds
and peak RSS.

    python -m benchmarks.bench_sql_export [--rows 2000000] [--repeat 1] [--quick]

The warehouse (not timed) holds ``--rows`` voice rates (``voice_rate``: text with commas and
quotes, DECIMAL prices, integers, timestamps, NULLs) and the query reads them as an analyst
exporting a deck would. Every output is checked: the CSV has a line per row (stdout and the
file, byte for byte the same), the Parquet file the rows and the exact DECIMAL type.
Goals (docs/benchmarks.md): memory bounded (the rows never held at once), CSV faster than
before streaming (2M rows: 4.45 s at 476 MB, holding every row).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import duckdb

from benchmarks.bench_cost import Run, run_child
from pipeline.warehouse.migrate import apply_migrations

QUERY = (
    "SELECT tech_prefix, prefix, destination, price, initial_seconds, increment_seconds, "
    "valid_from, valid_to FROM voice_rate"
)
# 1 in 7 destinations has a comma and quotes (quoted in CSV), 1 in 3 rows is still valid
FILL = """
INSERT INTO voice_rate (tech_prefix, prefix, destination, price, initial_seconds,
    increment_seconds, valid_from, valid_to, first_seen_at, first_snapshot_id)
SELECT 'current', (1000000 + i)::VARCHAR,
       CASE WHEN i % 7 = 0 THEN 'Dest, "' || i || '"' ELSE 'Destination ' || i END,
       ((i * 7919) % 100000000)::DECIMAL(18, 8) / 100000000,
       CASE WHEN i % 5 = 0 THEN 60 ELSE 1 END, CASE WHEN i % 5 = 0 THEN 60 ELSE 1 END,
       TIMESTAMPTZ '2026-01-01 00:00:00+00' + INTERVAL (i % 86400) SECOND,
       CASE WHEN i % 3 = 0 THEN NULL
            ELSE TIMESTAMPTZ '2026-06-01 00:00:00+00' + INTERVAL (i % 3600) SECOND END,
       TIMESTAMPTZ '2026-01-01 00:00:00+00', 1
FROM range(?) t(i)
"""


def build_warehouse(path: Path, rows: int) -> None:
    with duckdb.connect(str(path)) as con:
        apply_migrations(con)
        con.execute(FILL, [rows])


def sql_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", "sql", QUERY, *args]


def run_to_stdout(env: dict[str, str], out: Path) -> Run:
    """CSV on stdout, redirected to ``out`` by a shell (the launcher keeps its own stdout)."""
    command = " ".join(f"'{a}'" for a in sql_argv("--format", "csv")) + f" > '{out}'"
    return run_child(["sh", "-c", command], env)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def check_csv(path: Path, rows: int) -> None:
    with path.open("rb") as handle:
        lines = sum(1 for _ in handle)
    if lines != rows + 1:
        raise SystemExit(f"{path}: {lines} lines, expected {rows + 1}")


def check_parquet(path: Path, rows: int) -> None:
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    count = pq.ParquetFile(path).metadata.num_rows
    if count != rows or str(schema.field("price").type) != "decimal128(18, 8)":
        raise SystemExit(f"{path}: {count} rows, price {schema.field('price').type}")


def line(label: str, run: Run, rows: int) -> str:
    return (
        f"{label:<22} {run.wall:7.2f} s  CPU {run.cpu:6.2f} s  peak RSS {run.rss_mb:5.0f} MB  "
        f"{rows / run.wall / 1e6:5.2f} M rows/s"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="20,000 rows")
    args = parser.parse_args(argv)
    rows = 20_000 if args.quick else args.rows
    print(f"bench_sql_export: {rows:,} rows of voice_rate; load average {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench-sql-") as tmp:
        folder = Path(tmp)
        build_warehouse(folder / "warehouse.duckdb", rows)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RATEDECK_", "COMMPEAK_"))}
        env |= {"RATEDECK_DATA_DIR": str(folder / "data")}
        env |= {"RATEDECK_WAREHOUSE": str(folder / "warehouse.duckdb")}
        for _ in range(args.repeat):
            csv_file, parquet_file, stdout_file = (
                folder / "out.csv",
                folder / "out.parquet",
                folder / "stdout.csv",
            )
            print(line("csv --out", run_child(sql_argv("--out", str(csv_file)), env), rows))
            print(line("csv on stdout", run_to_stdout(env, stdout_file), rows))
            print(line("parquet --out", run_child(sql_argv("--out", str(parquet_file)), env), rows))
            check_csv(csv_file, rows)
            if digest(csv_file) != digest(stdout_file):
                raise SystemExit("the CSV on stdout differs from the CSV file")
            check_parquet(parquet_file, rows)
        print(f"outputs checked: CSV {digest(csv_file)} ({csv_file.stat().st_size:,} bytes)")
    print(f"after: load average {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
