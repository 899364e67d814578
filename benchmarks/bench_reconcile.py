"""Reconciling one day call by call, after a history of days: the finance email's query; and
the other queries a day's CDR work runs, on the same history.

    python -m benchmarks.bench_reconcile [--days 10] [--calls 1000000] [--repeat 2] [--quick]

A warehouse (migrated, in a temporary folder) holds ``--days`` days of ``--calls`` calls on
each side, written straight by SQL (not timed): our billable calls (``cdr_call``) with their
costs (``cdr_cost``), and the carrier's (``carrier_call``), the same calls one second later,
to numbers drawn from 5M so that numbers repeat over the days as a customer's do. Then the
disputes of the last day are read, as the finance email and the dispute XLSX read them, two
ways, alternately ``--repeat`` times (best of each), and must give the same rows:

* ``reconcile_calls(day, day)``: the macro the queries use, which reads that day and one
  either side;
* the peer, ``reconcile_call WHERE call_day = day``: the view over every day, as the queries
  read it before 2026-12-07 (DuckDB cannot push the day through the view's full join).

Then each query of ``DAILY_QUERIES`` (``pipeline/sql/queries``: what the import, the costing,
its check, ``cdr status`` and the email ask of the CDR tables; ``cdr_day_counts`` is the recount
of a day the import and the costing run when they write it), with the last day's parameters,
best of ``--repeat``, and its time per stored day: what grows with the history. Run at two
``--days`` to compare.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import duckdb

from benchmarks import apply_quick

QUICK = {"days": 3, "calls": 5_000, "repeat": 1}
FIRST_DAY = date(2026, 11, 2)
NUMBERS = 5_000_000
CALLS_SQL = """
INSERT INTO cdr_call
SELECT 'o' || $k || '-' || i, $k, i + 1, day + INTERVAL (i * 86399 // $calls) SECOND,
       CAST(day AS DATE), n, n, 'current', 61, 60, true, NULL
FROM (SELECT CAST($day AS TIMESTAMPTZ) AS day, i,
             '4420' || CAST(hash(i, $k) % $numbers AS VARCHAR) AS n
      FROM range($calls) t(i))
"""
COSTS_SQL = """
INSERT INTO cdr_cost
SELECT call_id, call_day, started_at, tech_prefix, tech_prefix, number, billsec, '4420',
       'London', 0.1, 60, 60, 60, 0.1, 'USD', TIMESTAMPTZ '2026-01-01 00:00:00+00',
       current_timestamp, $k
FROM cdr_call WHERE file_id = $k
"""
CARRIER_SQL = """
INSERT INTO carrier_call
SELECT 'x' || call_id, file_id, row_number, started_at + INTERVAL 1 SECOND,
       CAST(timezone('UTC', started_at + INTERVAL 1 SECOND) AS DATE), 'current', number,
       'London', '4420', 60, 60, CASE WHEN row_number % 1000 = 1 THEN 0.2 ELSE 0.1 END,
       CASE WHEN row_number % 1000 = 1 THEN 0.2 ELSE 0.1 END, 'USD'
FROM cdr_call WHERE file_id = $k AND row_number % 500 <> 0
"""
DISPUTES = "SELECT * FROM {source} WHERE class <> 'exact' ORDER BY ALL"
# a query of the daily CDR work -> its parameters for the last day ($day), file (file_id) and
# window
DAILY_QUERIES = {
    "cdr_file_days": {"file_id": "last file"},
    "carrier_file_days": {"file_id": "last file"},
    "cdr_day_inputs": {"day": "$day", "recost": False},
    "cdr_day_total": {"day": "$day"},
    "cdr_day_counts": {"first_day": "$day", "last_day": "$day"},  # the recount of a written day
    "cdr_uncosted_days": {},
    "cdr_profile_window": {"days": 30, "today": "$day"},
    "reconcile_latest_day": {"today": "$day"},
    "reconcile_days": {"first": "$day", "last": "$day", "tolerance_pct": 2},
    "cdr_status": {},
}
WAYS = {
    "reconcile_calls(day, day)": "reconcile_calls($day, $day)",
    "peer: the view, filtered": "(SELECT * FROM reconcile_call WHERE call_day = $day)",
}


def fill(con: duckdb.DuckDBPyConnection, days: int, calls: int) -> None:
    """``days`` days of ``calls`` calls on each side (every 500th call missing on the
    carrier's, every 1000th billed at another rate), each day counted in cdr_day as the import
    and the costing count it."""
    from pipeline.warehouse.cdr import recount_days

    for k in range(days):
        day = FIRST_DAY + timedelta(days=k)
        params = {"k": k, "day": f"{day} 00:00:00+00", "calls": calls, "numbers": NUMBERS}
        con.execute(CALLS_SQL, params)
        con.execute(COSTS_SQL, {"k": k})
        con.execute(CARRIER_SQL, {"k": k})
        recount_days(con, day, day)
        con.execute("CHECKPOINT")


def run(days: int, calls: int, repeat: int) -> int:
    from pipeline.warehouse.migrate import apply_migrations

    one, five, fifteen = os.getloadavg()
    print(
        f"bench_reconcile: the last day's disputes after {days} days x {calls:,} calls a side; "
        f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"
    )
    last = FIRST_DAY + timedelta(days=days - 1)
    with tempfile.TemporaryDirectory(prefix="bench_reconcile-") as tmp:
        with duckdb.connect(str(Path(tmp) / "warehouse.duckdb")) as con:
            apply_migrations(con)
            started = time.perf_counter()
            fill(con, days, calls)
            print(f"  warehouse written in {time.perf_counter() - started:.0f} s")
            times: dict[str, list[float]] = {way: [] for way in WAYS}
            rows: dict[str, list[tuple]] = {}
            for _ in range(repeat):
                for way, source in WAYS.items():
                    started = time.perf_counter()
                    rows[way] = con.execute(
                        DISPUTES.format(source=source), {"day": last}
                    ).fetchall()
                    times[way].append(time.perf_counter() - started)
            daily = time_daily_queries(con, last, days - 1, repeat)
    first, peer = WAYS
    if rows[first] != rows[peer]:
        raise SystemExit("reconcile_calls and the view disagree on the day's disputes")
    best = {way: min(seconds) for way, seconds in times.items()}
    print(f"{len(rows[first]):,} disputed calls on {last} (best of {repeat}):")
    for way, seconds in best.items():
        print(f"  {way:28s} {seconds:7.2f} s")
    print(f"  peer / reconcile_calls: {best[peer] / best[first]:.1f}x")
    print(f"the day's other queries after {days} days (best of {repeat}):")
    for name, seconds in daily.items():
        print(f"  {name:28s} {seconds:7.3f} s  {seconds / days * 1000:6.2f} ms per stored day")
    return 0


def time_daily_queries(
    con: duckdb.DuckDBPyConnection, last: date, last_file: int, repeat: int
) -> dict[str, float]:
    """Best time of each of ``DAILY_QUERIES`` with the last day's parameters."""
    from pipeline.warehouse.migrate import read_sql

    stand_ins = {"$day": last, "last file": last_file}
    best = {}
    for name, given in DAILY_QUERIES.items():
        params = {key: stand_ins.get(value, value) for key, value in given.items()}
        sql = read_sql(f"queries/{name}.sql")
        seconds = []
        for _ in range(repeat):
            started = time.perf_counter()
            con.execute(sql, params).fetchall()
            seconds.append(time.perf_counter() - started)
        best[name] = min(seconds)
    return best


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_reconcile")
    parser.add_argument("--days", type=int, default=10, help="days stored")
    parser.add_argument("--calls", type=int, default=1_000_000, help="calls a day, each side")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    args = parser.parse_args(argv)
    apply_quick(args, QUICK)
    return run(args.days, args.calls, args.repeat)


if __name__ == "__main__":
    raise SystemExit(main())
