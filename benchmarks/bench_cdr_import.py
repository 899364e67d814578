"""Importing a day of CDRs after a long history: does it take as long as on the first day?

    python -m benchmarks.bench_cdr_import [--stored-days 30] [--calls 1000000] [--repeat 3]
                                          [--ids uuid|ordered] [--seed 7] [--quick]
    python -m benchmarks.bench_cdr_import --stored-days 100     # 100M calls stored

One generic Parquet CDR file of ``--calls`` calls on one day is imported with ``ratedeck cdr
import``'s code (``import_file``: landing, ingest, load) twice: into an empty warehouse (the
first day) and into one already holding ``--stored-days`` days of ``--calls`` calls (written
straight into ``cdr_call`` by SQL, untimed). Printed: each import end to end and its load (the
warehouse transaction), and their ratio: 1.0 means an import costs what the file brings, not
what is stored. Call ids are random uuids (FreeSWITCH's) unless ``--ids ordered`` (a day's
prefix and a counter, ordered in time as Asterisk's ``<epoch>.<sequence>``).

Then, on the warehouse with the history, the statement that adds the calls is timed alone,
each run a process of its own as an import is (DuckDB holds nothing of the warehouse in memory
yet; the operating system's cache holds what the history's writing left there), inside a
transaction rolled back, ``--repeat`` times alternately, best of each: today's
``cdr_call_insert.sql``, which looks for the calls a file repeats on the file's days only (a
day either side), against its peer ``bench_cdr_import_global.sql``, the rule before
2026-12-07, which looked for every incoming call id in the whole of ``cdr_call``. Both must
add the same calls.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from benchmarks import apply_quick
from benchmarks.bench_backfill import FIRST_DAY, bench_settings, day_calls

QUICK = {"stored_days": 3, "calls": 5_000, "repeat": 1}
DAYS, GLOBAL = "file's days", "global"  # the two rules: today's, and its peer
PEER_SQL = Path(__file__).resolve().parent / "bench_cdr_import_global.sql"


def _todays_rule() -> str:
    from pipeline.warehouse.migrate import read_sql

    return read_sql("queries/cdr_call_insert.sql")


RULES: dict[str, Callable[[], str]] = {DAYS: _todays_rule, GLOBAL: PEER_SQL.read_text}
# call ids: a switch's own (FreeSWITCH's random uuid; a day-ordered id as Asterisk's
# "<epoch>.<sequence>", where DuckDB's zone maps let a global check skip the older days)
CALL_IDS = {
    "uuid": "CAST(uuid() AS VARCHAR)",
    "ordered": "strftime(day, '%Y-%m-%d') || '-' || lpad(CAST(i AS VARCHAR), 8, '0')",
}
FILL_SQL = """
INSERT INTO cdr_call
SELECT {call_id}, $file_id, i + 1,
       day + INTERVAL (i * 86399 // $calls) SECOND, day, '4420' || CAST(i AS VARCHAR),
       '4420' || CAST(i AS VARCHAR), 'current', 61, 60, true, NULL
FROM (SELECT CAST($day AS TIMESTAMPTZ) AS day, range AS i FROM range($calls))
"""


@dataclass(frozen=True)
class Imported:
    total_s: float  # import_file end to end
    load_s: float  # of which load_snapshot: the warehouse transaction
    calls: int
    duplicates: int


def timed_import(settings: Any, path: Path, capture: dict[str, Any]) -> Imported:
    """``import_file`` of ``path``, its load timed apart; the IncomingSnapshot goes to
    ``capture['incoming']``."""
    from pipeline.stages import cdr as stage

    real = stage.load_snapshot

    def load(con: Any, spec: Any, incoming: Any) -> Any:
        capture["incoming"] = incoming
        started = time.perf_counter()
        try:
            return real(con, spec, incoming)
        finally:
            capture["load_s"] = time.perf_counter() - started

    stage.load_snapshot = load  # benchmark-only instrumentation
    try:
        started = time.perf_counter()
        done = stage.import_file(settings, path)
        total = time.perf_counter() - started
    finally:
        stage.load_snapshot = real
    return Imported(total, capture["load_s"], done.calls, done.duplicates)


def fill_history(settings: Any, days: int, calls: int, ids: str) -> float:
    """``days`` days of ``calls`` calls before FIRST_DAY + days, straight into cdr_call (one
    file id a day, each day committed and checkpointed as an import leaves it)."""
    from pipeline.warehouse.db import Warehouse
    from pipeline.warehouse.history import execute_named

    started = time.perf_counter()
    with Warehouse(settings).writer() as con:
        for k in range(days):
            day = FIRST_DAY + timedelta(days=k)
            params = {"file_id": -1 - k, "day": f"{day} 00:00:00+00", "calls": calls}
            execute_named(con, FILL_SQL.format(call_id=CALL_IDS[ids]), params)
            con.execute("CHECKPOINT")
            if (k + 1) % 10 == 0:
                print(f"  history: {k + 1} days, {time.perf_counter() - started:.0f} s", flush=True)
    return time.perf_counter() - started


def time_statements(data_dir: Path, rows: Path, repeat: int) -> dict[str, list[float]]:
    """Today's call insert and the global peer, alternately, each in a process of its own (as
    an import is: DuckDB starts with nothing of the warehouse in memory) and a transaction
    rolled back, on the warehouse in ``data_dir``; the calls each added must agree."""
    times: dict[str, list[float]] = {name: [] for name in RULES}
    added: dict[str, int] = {}
    for _ in range(repeat):
        for name in RULES:
            argv = [sys.executable, "-m", "benchmarks.bench_cdr_import"]
            argv += ["--time-statement", name, str(data_dir), str(rows)]
            done = subprocess.run(argv, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise SystemExit(f"timing the {name} rule failed: {done.stderr.strip()}")
            seconds, count = done.stdout.split()
            times[name].append(float(seconds))
            added[name] = int(count)
    if len(set(added.values())) != 1:
        raise SystemExit(f"the two rules added different calls: {added}")
    return times


def time_statement(rule: str, data_dir: Path, rows: Path) -> int:
    """In this process: the ``rule``'s statement adding ``rows`` (a file's ingested calls) to
    the warehouse in ``data_dir``, in a transaction rolled back; prints seconds and calls."""
    import polars as pl

    from pipeline.warehouse.cdr import CALLS_VIEW, call_days
    from pipeline.warehouse.db import Warehouse
    from pipeline.warehouse.history import execute_named

    calls = pl.read_parquet(rows)
    first_day, last_day = call_days(calls)
    params = {"file_id": 10**9, "file_key": "bench", "first_day": first_day, "last_day": last_day}
    with Warehouse(bench_settings(data_dir)).writer() as con:
        con.register(CALLS_VIEW, calls.to_arrow())
        con.execute("BEGIN TRANSACTION")
        started = time.perf_counter()
        execute_named(con, RULES[rule](), params)
        seconds = time.perf_counter() - started
        query = "SELECT count(*) FROM cdr_call WHERE file_id = ?"
        [(count,)] = con.execute(query, [params["file_id"]]).fetchall()
        con.execute("ROLLBACK")
        con.unregister(CALLS_VIEW)
    print(f"{seconds:.4f} {count}")
    return 0


def file_calls(rng: np.random.Generator, day: date, calls: int, ids: str) -> pl.DataFrame:
    """The file to import: ``calls`` generic CDR rows on ``day`` (``bench_backfill``'s), with
    random uuids for call ids when ``ids`` says so."""
    prefixes = np.array(["4420", "4479", "331", "4930", "1212"])
    frame = day_calls(rng, prefixes, day, calls)
    if ids == "uuid":
        uuids = [str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in range(calls)]
        frame = frame.with_columns(call_id=pl.Series(uuids))
    return frame


def run(stored_days: int, calls: int, repeat: int, seed: int, ids: str) -> int:
    rng = np.random.default_rng(seed)
    day = FIRST_DAY + timedelta(days=stored_days)
    one, five, fifteen = os.getloadavg()
    print(
        f"bench_cdr_import: a file of {calls:,} calls on {day}, into an empty warehouse and "
        f"into one holding {stored_days} days x {calls:,} calls, call ids {ids}; load average "
        f"{one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory(prefix="bench_cdr_import-") as tmp:
        work = Path(tmp)
        path = work / f"calls-{day}.parquet"
        file_calls(rng, day, calls, ids).write_parquet(path)
        first_settings = bench_settings(work / "first")
        history_settings = bench_settings(work / "history")
        from pipeline.warehouse.db import Warehouse

        with Warehouse(first_settings).writer():
            pass  # the schema exists before the timed import, as on any day but the very first
        filled = fill_history(history_settings, stored_days, calls, ids)
        size = Warehouse(history_settings).published_path.stat().st_size
        per_call = size / max(stored_days * calls, 1)
        print(
            f"  history written in {filled:.0f} s: {size / 2**20:,.0f} MB, {per_call:.0f} B a call"
        )
        capture: dict[str, Any] = {}
        first = timed_import(first_settings, path, capture)
        rows = work / "incoming.parquet"  # the file's calls as ingest made them
        capture["incoming"].result.rows.write_parquet(rows)
        times = time_statements(work / "history", rows, repeat)
        later = timed_import(history_settings, path, {})
    if (first.calls, first.duplicates) != (later.calls, later.duplicates):
        raise SystemExit(f"the two imports differ: {first} against {later}")
    stored = stored_days * calls
    print(f"{'import_file':30s} {'end to end':>11s} {'load':>8s}")
    print(f"{'first day (nothing stored)':30s} {first.total_s:9.2f} s {first.load_s:6.2f} s")
    print(f"{f'after {stored:,} calls':30s} {later.total_s:9.2f} s {later.load_s:6.2f} s")
    print(
        f"after the history / first day: {later.total_s / first.total_s:.2f}x end to end, "
        f"{later.load_s / first.load_s:.2f}x load ({later.calls:,} calls added each time)"
    )
    best = {name: min(values) for name, values in times.items()}
    spread = {name: f"{min(v):.2f}-{max(v):.2f} s" for name, v in times.items()}
    print(f"the statement that adds the calls, after {stored:,} calls (best of {repeat}):")
    for name, seconds in best.items():
        print(f"  {name:12s} {seconds:6.2f} s  ({spread[name]})")
    print(f"  {GLOBAL} / {DAYS}: {best[GLOBAL] / best[DAYS]:.1f}x")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_cdr_import")
    parser.add_argument("--stored-days", type=int, default=30)
    parser.add_argument("--calls", type=int, default=1_000_000, help="calls a day")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--ids", choices=sorted(CALL_IDS), default="uuid", help="call ids")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--time-statement", nargs=3, help=argparse.SUPPRESS)  # a child's work
    args = parser.parse_args(argv)
    if args.time_statement:
        rule, data_dir, rows = args.time_statement
        return time_statement(rule, Path(data_dir), Path(rows))
    apply_quick(args, QUICK)
    return run(args.stored_days, args.calls, args.repeat, args.seed, args.ids)


if __name__ == "__main__":
    raise SystemExit(main())
