"""Backfill: K days x N calls a day recosted as a Dagster backfill recosts them (one
materialisation of the ``cdr_costs`` partition per day, tagged as a backfill, the code
location's own asset and check, each worker a process of its own as a run worker is), first
by one worker, then by ``--workers`` workers taking days from one queue; prints each day's
time (pricing outside the lock, commit inside it), the speed-up and the projected year.

    python -m benchmarks.bench_backfill [--days 6] [--calls 100000] [--workers 2]
                                        [--deck-size 27000] [--repeat 1] [--seed 7] [--quick]
    python -m benchmarks.bench_backfill --days 4 --calls 1000000      # the issue's 1M a day

The warehouse: a synthetic ``--deck-size`` deck of tech prefix ``current`` loaded the day
before the first day and changed (1 % of the prices) every noon, so each day has two
versions of some prefixes and a call is priced as of its start; each day's calls are a
generic Parquet CDR file imported with ``ratedeck cdr import``'s code (not timed), all
costed once (timed, as "first costing"). Then the backfill runs, sequential and parallel
alternately ``--repeat`` times (best and median). Every backfill must leave exactly the rows
of the first costing (same prices; only when and by which run differ): the last column says.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from benchmarks import apply_quick

QUICK = {"days": 4, "calls": 5_000, "deck_size": 2_000, "repeat": 1}
FIRST_DAY = date(2026, 11, 2)
BACKFILL_TAG = "dagster/backfill"
YEAR = 365
ISSUE_CALLS = 1_000_000


def bench_settings(data_dir: Path, deck_size: int = 0) -> Any:
    """The settings of the benchmark's warehouse (a generic-CSV/Parquet CDR installation)."""
    from pipeline.settings import Settings

    inbox = data_dir / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    return Settings().with_overrides(
        paths={"data_dir": str(data_dir)},
        voice={"tech_prefixes": ["current"]},
        cdr={
            "format": "generic",
            "columns": {"call_id": "call_id"},
            "folder": str(inbox),
            "partitions_start": FIRST_DAY.isoformat(),
        },
    )


# -- the warehouse ---------------------------------------------------------------------------
def build(data_dir: Path, days: int, calls: int, deck_size: int, seed: int) -> list[date]:
    """Decks and ``days`` days of ``calls`` calls imported (nothing costed yet)."""
    from pipeline.stages.cdr import import_file

    settings = bench_settings(data_dir)
    deck = load_decks(settings, days, deck_size, seed)
    rng = np.random.default_rng(seed)
    prefixes = deck["prefix"].to_numpy()
    out = []
    for k in range(days):
        day = FIRST_DAY + timedelta(days=k)
        path = data_dir / f"calls-{day}.parquet"
        day_calls(rng, prefixes, day, calls).write_parquet(path)
        import_file(settings, path)
        path.unlink()
        out.append(day)
    return out


def load_decks(settings: Any, days: int, deck_size: int, seed: int) -> pl.DataFrame:
    """The deck the day before, then a changed deck every noon; returns the last deck."""
    from benchmarks.synthetic import churn, voice_deck
    from pipeline.ingest.frames import IngestResult, empty_rejects
    from pipeline.warehouse.db import Warehouse
    from pipeline.warehouse.voice import load_voice_snapshot

    deck = voice_deck(deck_size, seed=seed)
    with Warehouse(settings).writer() as con:
        for k in range(-1, days):
            if k >= 0:
                deck = churn(deck, 0.01, seed=seed + k + 1)
            fetched = datetime.combine(FIRST_DAY, datetime.min.time(), UTC) + timedelta(
                days=k, hours=12
            )
            load_voice_snapshot(
                con,
                tech_prefix="current",
                fetched_at=fetched,
                content_sha256=f"{k + 2:064d}",
                raw_path=f"raw/voice/current/bench-{k + 1}.csv",
                result=IngestResult(deck, empty_rejects(), "csv", deck.height),
            )
    return deck


def day_calls(rng: np.random.Generator, prefixes: np.ndarray, day: date, n: int) -> pl.DataFrame:
    """``n`` calls on ``day``: a deck prefix and six digits, 1-599 s, starts over the day."""
    heads = rng.choice(prefixes, n)
    tails = rng.integers(0, 1_000_000, n)
    midnight_us = int(datetime.combine(day, datetime.min.time(), UTC).timestamp()) * 1_000_000
    starts = pl.Series(midnight_us + rng.integers(0, 86_400 * 1_000_000, n)).cast(
        pl.Datetime("us", "UTC")
    )
    return pl.DataFrame(
        {
            "call_id": pl.Series(range(n))
            .cast(pl.String)
            .str.zfill(8)
            .str.replace(r"^", f"{day}-"),
            "number": pl.Series(heads).cast(pl.String)
            + pl.Series(tails).cast(pl.String).str.zfill(6),
            "seconds": rng.integers(1, 600, n),
            "started_at": starts.dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ"),
        }
    )


# -- one worker: a run worker's materialisations, one day after another -----------------------
@dataclass
class DayTiming:
    day: str
    worker: int  # process id
    total_s: float  # the materialisation (asset and check), as the run's step would take
    cpu_s: float  # CPU time of the worker (all its threads) over that materialisation
    price_s: float  # read + price + stage, no writer lock
    commit_s: float  # inside the writer lock (fingerprint, transaction); checkpoint not in it
    recomputed: bool


def worker(data_dir: str, queue: Any, results: Any, ready: Any, go: Any, recost: bool) -> None:
    """Loads the code location (as a run worker does), says it is ``ready``, waits for
    ``go``, then takes days from ``queue`` until its end mark; puts one list of DayTiming on
    ``results``."""
    started = time.perf_counter()
    import dagster as dg

    from pipeline.defs import build_definitions
    from pipeline.orchestrate import QUIET_CONSOLE
    from pipeline.stages import cdr as stages

    settings = bench_settings(Path(data_dir))
    defs = build_definitions(settings)
    phases: dict[str, float] = {}
    _time_phase(stages, "stage_day", phases)
    _time_phase(stages, "commit_day", phases)
    done = []
    with dg.DagsterInstance.ephemeral() as instance:
        ready.put(time.perf_counter() - started)
        go.wait()
        while (day := queue.get()) is not None:  # None: no day left
            phases.clear()
            cpu_started = _cpu_seconds()
            started = time.perf_counter()
            result = dg.materialize(
                list(defs.assets or []),
                selection=dg.AssetSelection.assets("cdr_costs"),
                partition_key=day,
                instance=instance,
                resources=defs.resources,
                tags={BACKFILL_TAG: "bench"} if recost else None,
                run_config=QUIET_CONSOLE,
            )
            total = time.perf_counter() - started
            cpu = _cpu_seconds() - cpu_started
            [event] = result.asset_materializations_for_node("cdr_costs")
            recomputed = bool(event.metadata["recomputed_at_commit"].value)
            done.append(
                DayTiming(
                    day,
                    os.getpid(),
                    total,
                    cpu,
                    phases["stage_day"],
                    phases["commit_day"],
                    recomputed,
                )
            )
        results.put(done)  # before the instance and the interpreter shut down


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _time_phase(module: Any, name: str, into: dict[str, float]) -> None:
    """Benchmark-only instrumentation: how long each call of ``module.name`` took."""
    real = getattr(module, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            into[name] = time.perf_counter() - started

    setattr(module, name, timed)


@dataclass
class Backfill:
    workers: int
    wall_s: float  # from "go" to the last day committed
    startup_s: float  # a worker's start: interpreter, imports, the code location (median)
    days: list[DayTiming] = field(default_factory=list)


def backfill(data_dir: Path, days: list[date], workers: int, *, recost: bool = True) -> Backfill:
    """``workers`` processes cost ``days`` from one queue; wall time from the moment every
    worker has loaded the code location to the last commit. (A Dagster run worker starts a
    process per run; that start-up is measured apart and added to the projection.)"""
    context = multiprocessing.get_context("spawn")
    queue, results, ready, go = context.Queue(), context.Queue(), context.Queue(), context.Event()
    for day in days:
        queue.put(day.isoformat())
    for _ in range(workers):
        queue.put(None)  # one end mark per worker
    processes = [
        context.Process(target=worker, args=(str(data_dir), queue, results, ready, go, recost))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    startups = [ready.get() for _ in processes]
    started = time.perf_counter()
    go.set()
    timings = [results.get() for _ in processes]
    wall = time.perf_counter() - started
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"a backfill worker failed (exit {process.exitcode})")
    costed = sorted((t for ts in timings for t in ts), key=lambda t: t.day)
    assert len(costed) == len(days), "a day was not costed"
    return Backfill(workers, wall, statistics.median(startups), costed)


def cost_digest(data_dir: Path) -> tuple[int, int]:
    """(rows, hash of every row of cdr_cost but when and by which run it was costed)."""
    from pipeline.warehouse.db import Warehouse

    with Warehouse(bench_settings(data_dir)).reader() as con:
        [(rows, digest)] = con.execute(
            "SELECT count(*), sum(hash(call_id, call_day, started_at, tech_prefix, rated_on, "
            "number, billsec, matched_prefix, destination, price, initial_seconds, "
            "increment_seconds, billed_seconds, cost, currency, rate_valid_from))::HUGEINT "
            "FROM cdr_cost"
        ).fetchall()
    return int(rows), int(digest)


# -- report ------------------------------------------------------------------------------------
def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def describe(run: Backfill, label: str, reference: tuple[int, int], data_dir: Path) -> str:
    per_day = [t.total_s for t in run.days]
    price = [t.price_s for t in run.days]
    commit = [t.commit_s for t in run.days]
    cpu = [t.cpu_s for t in run.days]
    same = "yes" if cost_digest(data_dir) == reference else "NO"
    recomputed = sum(t.recomputed for t in run.days)
    return (
        f"{label:<22} {run.workers:>7}  {run.wall_s:>7.1f}  {run.wall_s / len(run.days):>9.2f}  "
        f"{statistics.median(per_day):>10.2f}  {statistics.median(price):>8.2f}  "
        f"{statistics.median(commit):>9.2f}  {statistics.median(cpu):>10.2f}  {recomputed:>10}  "
        f"{same}"
    )


HEADER = (
    f"{'backfill':<22} {'workers':>7}  {'wall s':>7}  {'s per day':>9}  {'day median':>10}  "
    f"{'price s':>8}  {'commit s':>9}  {'cpu s/day':>10}  {'recomputed':>10}  same rows"
)


def run(days: int, calls: int, workers: int, deck_size: int, repeat: int, seed: int) -> int:
    print(
        f"bench_backfill: {days} days x {calls:,} calls/day, {deck_size:,}-prefix deck changed "
        f"daily, 1 vs {workers} workers, {repeat} repeat(s); {load_average()}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench_backfill-") as tmp:
        data_dir = Path(tmp) / "data"
        started = time.perf_counter()
        day_list = build(data_dir, days, calls, deck_size, seed)
        print(f"built in {time.perf_counter() - started:.1f} s (decks + imports, not timed)")
        first = backfill(data_dir, day_list, 1, recost=False)
        reference = cost_digest(data_dir)
        assert reference[0] == days * calls, reference
        print(HEADER)
        print(describe(first, "first costing", reference, data_dir), flush=True)
        sequential, parallel = [], []
        for attempt in range(repeat):
            for runs, n in ((sequential, 1), (parallel, workers)):
                runs.append(backfill(data_dir, day_list, n))
                label = f"recost #{attempt + 1}"
                print(describe(runs[-1], label, reference, data_dir), flush=True)
    summarise(sequential, parallel, days, calls, workers)
    print(load_average())
    return 0


def summarise(
    sequential: list[Backfill], parallel: list[Backfill], days: int, calls: int, workers: int
) -> None:
    seq = statistics.median(r.wall_s for r in sequential)
    par = statistics.median(r.wall_s for r in parallel)
    best_seq = min(r.wall_s for r in sequential)
    best_par = min(r.wall_s for r in parallel)
    print(
        f"speed-up of {workers} workers: {seq / par:.2f}x (median walls {seq:.1f} s vs {par:.1f} s;"
        f" best {best_seq:.1f} s vs {best_par:.1f} s: {best_seq / best_par:.2f}x)"
    )
    startup = statistics.median(r.startup_s for r in [*sequential, *parallel])
    cpu = statistics.median(t.cpu_s for r in sequential for t in r.days)
    cores = os.cpu_count() or 1
    print(
        f"CPU per day (sequential, median): {cpu:.2f} s; on {cores} idle cores no number of "
        f"workers can cost a year in less than {YEAR * cpu / cores / 60:.1f} min"
    )
    year_seq, year_par = YEAR * seq / days, YEAR * par / days
    # a Dagster run worker is a process per run (per day): its start-up, spread over workers
    start_seq, start_par = YEAR * startup, YEAR * startup / workers
    print(
        f"projected year ({YEAR} days) at {calls:,} calls/day: {year_seq / 60:.1f} min "
        f"sequential, {year_par / 60:.1f} min with {workers} workers; plus a run worker's "
        f"start-up per day ({startup:.1f} s): {(year_seq + start_seq) / 60:.1f} and "
        f"{(year_par + start_par) / 60:.1f} min"
    )
    if calls != ISSUE_CALLS:
        scale = ISSUE_CALLS / calls
        print(
            f"  at 1M calls/day by linear scaling of the costing (x{scale:g}; measure it: "
            f"--calls 1000000): {(year_seq * scale + start_seq) / 60:.1f} min sequential, "
            f"{(year_par * scale + start_par) / 60:.1f} min with {workers} workers"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_backfill")
    parser.add_argument("--days", type=int, default=6)
    parser.add_argument("--calls", type=int, default=100_000, help="calls per day")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--deck-size", type=int, default=27_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    args = parser.parse_args(argv)
    apply_quick(args, QUICK)
    return run(args.days, args.calls, args.workers, args.deck_size, args.repeat, args.seed)


if __name__ == "__main__":
    raise SystemExit(main())
