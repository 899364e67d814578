"""History load speed: a changed 100k-row voice deck, an unchanged one, and a plain
``CREATE TABLE AS`` of the same frame (the floor: just copying the rows into DuckDB).

    python -m benchmarks.bench_history [--rows 100000] [--repeat 5] [--churn 0.01]

Each figure is the best of ``--repeat`` runs (min is the least noisy on a shared machine),
median in brackets. Loads go through ``load_voice_snapshot`` (one transaction: snapshot row,
history, rejects) on a DuckDB file in a temporary directory.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from benchmarks.synthetic import churn, voice_deck
from pipeline.ingest.frames import IngestResult, empty_rejects
from pipeline.warehouse.migrate import apply_migrations
from pipeline.warehouse.voice import SnapshotLoad, load_voice_snapshot

START = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)


def _load(con: duckdb.DuckDBPyConnection, deck: pl.DataFrame, at: datetime) -> SnapshotLoad:
    return load_voice_snapshot(
        con,
        tech_prefix="current",
        fetched_at=at,
        content_sha256=f"bench-{at.isoformat()}",
        raw_path="bench",
        result=IngestResult(
            rows=deck, rejects=empty_rejects(), source_format="csv", total_rows=deck.height
        ),
    )


def _timed(action: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    outcome = action()
    return time.perf_counter() - start, outcome


def _summary(label: str, seconds: list[float]) -> str:
    return f"{label:<28} {min(seconds) * 1000:8.1f} ms  (median {statistics.median(seconds) * 1000:.1f} ms)"


def run(rows: int, repeat: int, churn_fraction: float) -> dict[str, list[float]]:
    decks = [voice_deck(rows, seed=1)]
    for day in range(1, repeat + 1):
        decks.append(churn(decks[-1], churn_fraction, seed=day))
    times: dict[str, list[float]] = {"changed": [], "unchanged": [], "ctas": []}
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "bench.duckdb"))
        apply_migrations(con)
        _load(con, decks[0], START)
        opened = []
        for day in range(1, repeat + 1):
            at = START + timedelta(days=day)
            seconds, result = _timed(lambda d=decks[day], t=at: _load(con, d, t))
            times["changed"].append(seconds)
            opened.append(result.opened)
            seconds, result = _timed(
                lambda d=decks[day], t=at + timedelta(hours=12): _load(con, d, t)
            )
            assert result.opened == 0, "an unchanged deck must add no rows"
            times["unchanged"].append(seconds)

        def plain_copy(deck: pl.DataFrame = decks[-1]) -> None:
            con.register("bench_frame", deck.to_arrow())  # as the loader does
            con.execute("CREATE OR REPLACE TABLE plain AS SELECT * FROM bench_frame")
            con.unregister("bench_frame")

        for _ in range(repeat):
            seconds, _ = _timed(plain_copy)
            times["ctas"].append(seconds)
        history_rows = con.execute("SELECT count(*) FROM voice_rate").fetchall()[0][0]
        con.close()
    print(
        f"deck: {rows} rows, churn {churn_fraction:.1%}/load -> {min(opened)}..{max(opened)} "
        f"versions opened per changed load; history now {history_rows} rows"
    )
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--churn", type=float, default=0.01)
    args = parser.parse_args(argv)
    times = run(args.rows, args.repeat, args.churn)
    print(_summary("changed deck load", times["changed"]))
    print(_summary("unchanged deck load", times["unchanged"]))
    print(_summary("CREATE TABLE AS (floor)", times["ctas"]))
    floor = min(times["ctas"])
    print(f"ratio changed/CTAS   {min(times['changed']) / floor:5.1f}x")
    print(f"ratio unchanged/CTAS {min(times['unchanged']) / floor:5.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
