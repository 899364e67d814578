"""Load: many tech prefixes' voice decks fetched from the emulator over loopback with bounded
concurrency, then normalised and loaded into the warehouse the way the pipeline does it.

    python -m benchmarks.bench_load [--tech-prefixes 20] [--deck-size 50000] [--concurrency 4]
                                    [--latency 0] [--quick] [--json]

Phases, each timed on the wall clock, with the process's peak resident memory after it
(``resource.getrusage(...).ru_maxrss``: a high-water mark, so it only grows):

1. warm-up (untimed in the ratios): every deck fetched once, so the emulator has rendered and
   cached them all and the timed fetches measure transfer, hashing and landing, not rendering;
2. fetch, sequential (the baseline: ``concurrency=1``);
3. fetch, bounded concurrency (``stages.voice.fetch_voice_decks``, ``--concurrency`` workers);
4. normalise (polars, parquet staging), one deck after another;
5. load (one writer transaction per deck, each published atomically: as ``ratedeck run``).

The emulator runs in a child process, so its memory and its Python time are not ours.
``--latency S`` delays every answer by S seconds (an emulator ``slow`` fault), to show what
concurrency buys against a remote API; 0 is pure loopback.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

API_KEY = "bench-load-key"
MARKET_START = date(2026, 11, 1)
QUICK = {"tech_prefixes": 4, "deck_size": 5_000}


@dataclass
class Phase:
    name: str
    seconds: float
    peak_rss_mb: float
    detail: str = ""


@dataclass
class LoadReport:
    tech_prefixes: int
    deck_size: int
    concurrency: int
    latency_s: float
    phases: list[Phase] = field(default_factory=list)
    rows_loaded: int = 0
    bytes_fetched: int = 0
    snapshots: int = 0
    warehouse_mb: float = 0.0  # the published file each load copies (publishes) in full

    def seconds(self, name: str) -> float:
        return next(p.seconds for p in self.phases if p.name == name)

    @property
    def fetch_speedup(self) -> float:
        """Sequential fetch time over concurrent fetch time (> 1: concurrency helps)."""
        concurrent = self.seconds("fetch_concurrent")
        return self.seconds("fetch_sequential") / concurrent if concurrent else float("inf")


def tech_prefix_ids(count: int) -> list[str]:
    """021001, 021002, ... (the CommPeak style of tech prefix ids)."""
    return [f"021{n:03d}" for n in range(1, count + 1)]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _serve(tech_prefixes: list[str], deck_size: int, latency: float, conn) -> None:
    """The emulator, in a child process; sends its URL, serves until told to stop."""
    import pipeline.emulator.app as emulator_app
    from pipeline.emulator import EmulatorServer, Market

    # keep every deck's rendering cached: the benchmark measures the pipeline, not the emulator
    emulator_app.RENDER_CACHE_SIZE = max(emulator_app.RENDER_CACHE_SIZE, len(tech_prefixes))
    market = Market(
        seed=7, start_date=MARKET_START, deck_size=deck_size, tech_prefixes=tuple(tech_prefixes)
    )
    faults = f"slow:{latency}" if latency > 0 else None
    with EmulatorServer(market, api_key=API_KEY, faults=faults) as server:
        conn.send(server.url)
        conn.recv()


class EmulatorProcess:
    def __init__(self, tech_prefixes: list[str], deck_size: int, latency: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child_conn = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(tech_prefixes, deck_size, latency, child_conn), daemon=True
        )

    def __enter__(self) -> str:
        self._process.start()
        if not self._conn.poll(300):
            raise RuntimeError("the emulator did not start")
        return self._conn.recv()

    def __exit__(self, *exc: object) -> None:
        try:
            self._conn.send("stop")
        except OSError:
            pass
        self._process.join(30)
        if self._process.is_alive():
            self._process.kill()


def _timed(report: LoadReport, name: str, action: Callable[[], Any], detail=None) -> Any:
    start = time.perf_counter()
    outcome = action()
    seconds = time.perf_counter() - start
    text = detail(outcome, seconds) if detail else ""
    report.phases.append(Phase(name, seconds, peak_rss_mb(), text))
    return outcome


def run(
    tech_prefixes: int,
    deck_size: int,
    concurrency: int,
    latency: float = 0.0,
    data_dir: Path | None = None,
) -> LoadReport:
    from pydantic import SecretStr

    from pipeline.commpeak.client import CommPeakClient
    from pipeline.settings import Settings
    from pipeline.stages.voice import fetch_voice_decks, load_voice_deck, normalise_voice_deck
    from pipeline.warehouse.db import Warehouse

    ids = tech_prefix_ids(tech_prefixes)
    report = LoadReport(tech_prefixes, deck_size, concurrency, latency)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        root = data_dir or Path(tmp)
        with EmulatorProcess(ids, deck_size, latency) as url:
            settings = Settings().with_overrides(
                api={"base_url": url, "concurrency": concurrency, "timeout_s": 120},
                paths={"data_dir": str(root / "data")},
                voice={"tech_prefixes": ids},
            )
            secrets = settings.secrets.model_copy(update={"api_key": SecretStr(API_KEY)})
            settings = settings.model_copy(update={"secrets": secrets})

            def client() -> CommPeakClient:
                return CommPeakClient.from_settings(settings)

            def fetched(landed: dict, seconds: float) -> str:
                size = sum(f.size_bytes for f in landed.values())
                report.bytes_fetched = size
                return f"{len(landed)} decks, {size / 1e6:.1f} MB, {size / 1e6 / seconds:.1f} MB/s"

            _timed(
                report,
                "warm_up",
                lambda: fetch_voice_decks(settings, client, ids, concurrency),
                lambda landed, s: "emulator renders and caches every deck",
            )
            _timed(
                report,
                "fetch_sequential",
                lambda: fetch_voice_decks(settings, client, ids, 1),
                fetched,
            )
            landed = _timed(
                report,
                "fetch_concurrent",
                lambda: fetch_voice_decks(settings, client, ids, concurrency),
                fetched,
            )
        decks = _timed(
            report,
            "normalise",
            lambda: [normalise_voice_deck(settings, landed[tp]) for tp in ids],
            lambda decks, s: f"{sum(d.row_count for d in decks) / s:,.0f} rows/s",
        )
        _timed(
            report,
            "load",
            lambda: load_in_one_publish(settings, decks),
            lambda loads, s: (
                f"{sum(x.row_count for x in loads) / s:,.0f} rows/s, "
                f"{len(loads)} writer transactions, one publish"
            ),
        )
        with Warehouse(settings).reader() as con:
            report.snapshots, report.rows_loaded = con.execute(
                "SELECT count(*), sum(row_count) FROM voice_snapshot"
            ).fetchall()[0]
            current = con.execute("SELECT count(*) FROM voice_rate_current").fetchall()[0][0]
        report.warehouse_mb = settings.warehouse_path.stat().st_size / 1e6
        if report.snapshots != tech_prefixes or current != report.rows_loaded:
            raise RuntimeError(
                f"loaded {report.snapshots} snapshots / {current} current rates, expected "
                f"{tech_prefixes} / {report.rows_loaded}"
            )
    return report


def load_in_one_publish(settings, decks: list) -> list:
    """As ``ratedeck run`` loads: one transaction per deck, one publish for them all."""
    from pipeline.stages.voice import load_voice_deck
    from pipeline.warehouse.db import Warehouse

    with Warehouse(settings).publish_once():
        return [load_voice_deck(settings, deck) for deck in decks]


def render(report: LoadReport) -> str:
    one, five, _ = os.getloadavg()
    lines = [
        f"bench_load: {report.tech_prefixes} tech prefixes x {report.deck_size:,} prefixes, "
        f"concurrency {report.concurrency}, latency {report.latency_s:g} s; "
        f"load average {one:.2f} {five:.2f} on {os.cpu_count()} CPUs",
        f"{'phase':<18} {'wall s':>8} {'peak RSS MB':>12}  detail",
    ]
    for phase in report.phases:
        lines.append(
            f"{phase.name:<18} {phase.seconds:8.2f} {phase.peak_rss_mb:12.0f}  {phase.detail}"
        )
    pipeline_s = sum(report.seconds(name) for name in ("fetch_concurrent", "normalise", "load"))
    lines.append(
        f"fetch speed-up, concurrency {report.concurrency} vs 1: {report.fetch_speedup:.2f}x; "
        f"fetch+normalise+load {pipeline_s:.1f} s for {report.rows_loaded:,} rows "
        f"in {report.snapshots} snapshots; warehouse {report.warehouse_mb:.0f} MB"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_load", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--tech-prefixes", type=int, default=20, metavar="N")
    parser.add_argument("--deck-size", type=int, default=50_000, metavar="ROWS")
    parser.add_argument("--concurrency", type=int, default=4, metavar="N")
    parser.add_argument("--latency", type=float, default=0.0, metavar="S")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK['tech_prefixes']} x {QUICK['deck_size']:,}",
    )
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = parser.parse_args(argv)
    if args.quick:
        args.tech_prefixes, args.deck_size = QUICK["tech_prefixes"], QUICK["deck_size"]
    if not 1 <= args.tech_prefixes <= 999 or args.deck_size < 10 or not 1 <= args.concurrency <= 32:
        parser.error("--tech-prefixes 1..999, --deck-size >= 10, --concurrency 1..32")
    report = run(args.tech_prefixes, args.deck_size, args.concurrency, args.latency)
    if args.json:
        document = asdict(report) | {"fetch_speedup": report.fetch_speedup}
        print(json.dumps(document, indent=2))
    else:
        print(render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
