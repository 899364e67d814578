"""The peers of `ratedeck cost` in benchmarks/bench_cost.py, each run as its own process so
that its start-up counts, as ratedeck's does. They import only what they need.

    python -m benchmarks.cost_peers sql  WAREHOUSE CALLS_CSV OUT_PARQUET [TECH_PREFIX]
    python -m benchmarks.cost_peers dict WAREHOUSE CALLS_CSV OUT_CSV [TECH_PREFIX]
    python -m benchmarks.cost_peers floor COSTED_PARQUET OUT_PARQUET CODEC
    python -m benchmarks.cost_peers measure COMMAND [ARG ...]

* ``sql``: DuckDB alone (``benchmarks/bench_cost_peer.sql``): the CSV read by DuckDB, one
  equi-join per prefix length, exact DECIMAL cost, Parquet out.
* ``dict``: pure Python: the deck (read from the warehouse with DuckDB, the only library) in a
  dict, the CSV read with ``csv``, longest prefix first, integer cost, CSV out.

Both print one line: ``calls matched total_cost_units`` (cost in units of 1e-6).

* ``floor``: no costing at all: polars (the only import) reads a costed Parquet file (ratedeck's
  own output) and writes the same rows again with ``CODEC`` (``bench_cost`` passes ratedeck's
  codec), streaming as ``ratedeck cost`` does. Start-up, reading and writing those bytes is
  what any ``ratedeck cost`` writing that output through polars must spend at least: a floor
  under its time, and so a ceiling over its ratio to the SQL peer. Prints nothing.

Every mode ends with ``os._exit`` once its output is flushed, as ``ratedeck cost`` does.

``measure`` runs a command and prints, last on stderr, ``measured: WALL_S CPU_S MAXRSS_KB``
of that command alone. A small launcher, because a child forked from the benchmark itself
would report the benchmark's own resident set as its peak (Linux keeps it across ``exec``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

PEER_SQL = Path(__file__).with_name("bench_cost_peer.sql")
DIVISOR = 6000  # 60 s x 10^(8 - 6): price units of 1e-8 per minute -> cost units of 1e-6


def run_sql(warehouse: str, calls_csv: str, out: str, tech_prefix: str) -> str:
    import duckdb

    con = duckdb.connect()
    con.execute("ATTACH ? AS wh (READ_ONLY)", [warehouse])
    con.execute("SET VARIABLE tech_prefix = ?", [tech_prefix])
    con.execute("SET VARIABLE calls_csv = ?", [calls_csv])
    con.execute(PEER_SQL.read_text(encoding="utf-8"))
    quoted = out.replace("'", "''")  # COPY takes no parameter for its target
    con.execute(f"COPY costed TO '{quoted}' (FORMAT parquet)")
    calls, matched, total = con.execute(
        "SELECT count(*), count(cost), CAST(sum(cost) * 1000000 AS HUGEINT) FROM read_parquet(?)",
        [out],
    ).fetchone()
    return f"{calls} {matched} {total}"


def run_dict(warehouse: str, calls_csv: str, out: str, tech_prefix: str) -> str:
    import csv

    import duckdb

    with duckdb.connect(warehouse, read_only=True) as con:
        deck = con.execute(
            "SELECT prefix, destination, CAST(price AS VARCHAR), initial_seconds,"
            " increment_seconds FROM voice_rate WHERE tech_prefix = ? AND valid_from <= now()"
            " AND (valid_to IS NULL OR valid_to > now())",
            [tech_prefix],
        ).fetchall()
    table = {p: (d, price, _price_units(price), a, b) for p, d, price, a, b in deck}
    longest = max(map(len, table))
    calls = matched = total = 0
    with (
        open(calls_csv, newline="", encoding="utf-8") as source,
        open(out, "w", newline="", encoding="utf-8") as target,
    ):
        rows, writer = csv.reader(source), csv.writer(target)
        header = next(rows)
        writer.writerow([*header, "tech_prefix", "matched_prefix", "destination", "price",
                         "billed_seconds", "cost"])  # fmt: skip
        for number, duration in rows:
            calls += 1
            seconds = int(duration)
            for size in range(min(len(number), longest), -1, -1):
                hit = table.get(number[:size])
                if hit is not None:
                    break
            if hit is None:
                writer.writerow([number, duration, tech_prefix, "", "", "", "", ""])
                continue
            destination, price, units, a, b = hit
            billed = 0 if seconds == 0 else a if seconds <= a else a - (-(seconds - a) // b) * b
            cost = (2 * units * billed + DIVISOR) // (2 * DIVISOR)
            matched += 1
            total += cost
            writer.writerow([number, duration, tech_prefix, number[:size], destination, price,
                             billed, f"{cost // 10**6}.{cost % 10**6:06d}"])  # fmt: skip
    return f"{calls} {matched} {total}"


def run_floor(costed: str, out: str, codec: str) -> None:
    from typing import cast

    import polars as pl

    if TYPE_CHECKING:
        from polars._typing import ParquetCompression
    pl.scan_parquet(costed).sink_parquet(out, compression=cast("ParquetCompression", codec))


def _price_units(text: str) -> int:
    """'0.12345678' -> 12345678 (units of 1e-8), exactly."""
    whole, _, fraction = text.partition(".")
    return int(whole + fraction.ljust(8, "0"))


def measure(argv: list[str]) -> int:
    import resource
    import subprocess
    import time

    start = time.perf_counter()
    code = subprocess.call(argv)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    print(f"measured: {wall:.6f} {cpu:.6f} {usage.ru_maxrss}", file=sys.stderr)
    return code


def main(argv: list[str]) -> int:
    if argv[:1] == ["measure"]:
        return measure(argv[1:])
    if argv[:1] == ["floor"]:
        run_floor(*argv[1:])
        return 0
    mode, warehouse, calls_csv, out, *rest = argv
    runner = {"sql": run_sql, "dict": run_dict}[mode]
    print(runner(warehouse, calls_csv, out, rest[0] if rest else "current"))
    return 0


if __name__ == "__main__":
    exit_code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # no interpreter teardown, as `ratedeck cost` ends (pipeline.cli.entry): the processes
    # compared spend their time on the work, not on freeing what they built
    os._exit(exit_code)
