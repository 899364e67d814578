"""Load: many tech prefixes' voice decks fetched from the emulator over loopback with bounded
concurrency, then normalised and loaded into the warehouse the way the pipeline does it.

    python -m benchmarks.bench_load [--tech-prefixes 20] [--deck-size 50000] [--concurrency 4]
                                    [--latency 0] [--quick] [--json]
    python -m benchmarks.bench_load --days 90 --tech-prefixes 5 --deck-size 50000 [--json]

Phases, each timed on the wall clock, with the process's peak resident memory after it
(``resource.getrusage(...).ru_maxrss``: a high-water mark, so it only grows):

1. warm-up (untimed in the ratios): every deck fetched once, so the emulator has rendered and
   cached them all and the timed fetches measure transfer, hashing and landing, not rendering;
2. fetch, sequential (the baseline: ``concurrency=1``);
3. fetch, bounded concurrency (``stages.voice.fetch_voice_decks``, ``--concurrency`` workers);
4. normalise (polars, parquet staging), one deck after another;
5. load (one writer transaction per deck, one publish for them all: as ``ratedeck run``).

``--days N`` runs the market simulation instead: N market days of the emulator's moving market
(prices change, prefixes come and go), each day one run as ``ratedeck run`` does it (fetch every
deck, normalise, load, one publish). It prints each day's run time and the warehouse's size, then
the ratios that show whether a run's cost grows with what changed or with the history: the last
day's run time over the first day's, and the warehouse size over the size of what it holds
(every row written once into a fresh file: the decks plus their changes).

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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.settings import Settings
    from pipeline.stages.voice import NormalisedDeck
    from pipeline.warehouse.db import Warehouse

API_KEY = "bench-load-key"
MARKET_START = date(2026, 11, 1)
QUICK = {"tech_prefixes": 4, "deck_size": 5_000}


@dataclass
class Phase:
    name: str
    seconds: float
    peak_rss_mb: float
    detail: str = ""
    cpu_seconds: float = 0.0  # this process's user + system time (every thread, DuckDB's too)


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


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _serve(tech_prefixes: list[str], deck_size: int, latency: float, conn) -> None:
    """The emulator, in a child process; sends its URL, serves until told to stop
    (``advance``: the next market day)."""
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
        while conn.recv() == "advance":
            conn.send(server.advance_day().isoformat())


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

    def advance(self) -> str:
        """The emulator's next market day (its date, ISO)."""
        self._conn.send("advance")
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
    start, cpu_start = time.perf_counter(), cpu_seconds()
    outcome = action()
    seconds = time.perf_counter() - start
    text = detail(outcome, seconds) if detail else ""
    report.phases.append(Phase(name, seconds, peak_rss_mb(), text, cpu_seconds() - cpu_start))
    return outcome


def run(
    tech_prefixes: int,
    deck_size: int,
    concurrency: int,
    latency: float = 0.0,
    data_dir: Path | None = None,
) -> LoadReport:

    from pipeline.commpeak import CommPeakClient
    from pipeline.stages.voice import fetch_voice_decks, normalise_voice_deck
    from pipeline.warehouse.db import Warehouse

    ids = tech_prefix_ids(tech_prefixes)
    report = LoadReport(tech_prefixes, deck_size, concurrency, latency)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        root = data_dir or Path(tmp)
        with EmulatorProcess(ids, deck_size, latency) as url:
            settings = bench_settings(url, root, ids, concurrency)

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


def bench_settings(url: str, root: Path, ids: list[str], concurrency: int) -> Settings:
    """Settings for a benchmark: the emulator at ``url``, a data dir under ``root``."""
    from pydantic import SecretStr

    from pipeline.settings import Settings

    settings = Settings().with_overrides(
        api={"base_url": url, "concurrency": concurrency, "timeout_s": 120},
        paths={"data_dir": str(root / "data")},
        voice={"tech_prefixes": ids},
    )
    secrets = settings.secrets.model_copy(update={"api_key": SecretStr(API_KEY)})
    return settings.model_copy(update={"secrets": secrets})


def load_in_one_publish(settings: Settings, decks: list[NormalisedDeck]) -> list[Any]:
    """As ``ratedeck run`` loads: one transaction per deck, one publish for them all."""
    from pipeline.stages.voice import load_voice_deck
    from pipeline.warehouse.db import Warehouse

    with Warehouse(settings).publish_once():
        return [load_voice_deck(settings, deck) for deck in decks]


def machine_load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} on {os.cpu_count()} CPUs"


def render(report: LoadReport) -> str:
    lines = [
        f"bench_load: {report.tech_prefixes} tech prefixes x {report.deck_size:,} prefixes, "
        f"concurrency {report.concurrency}, latency {report.latency_s:g} s; {machine_load()}",
        f"{'phase':<18} {'wall s':>8} {'CPU s':>7} {'peak RSS MB':>12}  detail",
    ]
    for phase in report.phases:
        lines.append(
            f"{phase.name:<18} {phase.seconds:8.2f} {phase.cpu_seconds:7.2f} "
            f"{phase.peak_rss_mb:12.0f}  {phase.detail}"
        )
    pipeline_s = sum(report.seconds(name) for name in ("fetch_concurrent", "normalise", "load"))
    lines.append(
        f"fetch speed-up, concurrency {report.concurrency} vs 1: {report.fetch_speedup:.2f}x; "
        f"fetch+normalise+load {pipeline_s:.1f} s for {report.rows_loaded:,} rows "
        f"in {report.snapshots} snapshots; warehouse {report.warehouse_mb:.0f} MB"
    )
    return "\n".join(lines)


# -- the market simulation (--days) ------------------------------------------------------------


@dataclass
class SimulatedDay:
    day: int
    market_date: str
    run_s: float  # fetch + normalise + load + publish: the day's ``ratedeck run``
    load_s: float  # load + publish alone
    changes: int  # price changes the day's decks brought
    rates_stored: int  # voice_rate rows after the day
    published_mb: float  # data/warehouse.duckdb
    on_disk_mb: float  # every warehouse file (published, working copy, spare), each file once


@dataclass
class SimulationReport:
    days: int
    tech_prefixes: int
    deck_size: int
    history: list[SimulatedDay] = field(default_factory=list)
    compact_mb: float = 0.0  # the warehouse's rows written once into a fresh file

    @property
    def run_ratio(self) -> float:
        """The last day's run time over the first day's."""
        return self.history[-1].run_s / self.history[0].run_s

    @property
    def size_ratio(self) -> float:
        """The published warehouse over what it holds (decks + changes, written once)."""
        return self.history[-1].published_mb / self.compact_mb

    @property
    def disk_ratio(self) -> float:
        return self.history[-1].on_disk_mb / self.compact_mb


def simulate(days: int, tech_prefixes: int, deck_size: int, concurrency: int) -> SimulationReport:
    """``days`` market days, one run each; the data dir lives in a temporary folder."""
    ids = tech_prefix_ids(tech_prefixes)
    report = SimulationReport(days, tech_prefixes, deck_size)
    emulator = EmulatorProcess(ids, deck_size, 0.0)
    with tempfile.TemporaryDirectory(prefix="bench-days-") as tmp, emulator as url:
        settings = bench_settings(url, Path(tmp), ids, concurrency)
        market_date = MARKET_START.isoformat()
        for day in range(1, days + 1):
            if day > 1:
                market_date = emulator.advance()
            render_decks(settings, ids, Path(tmp))
            report.history.append(simulated_day(settings, ids, day, market_date))
        report.compact_mb = compact_size(settings.warehouse_path, Path(tmp)) / 1e6
    return report


def render_decks(settings: Settings, ids: list[str], scratch: Path) -> None:
    """Untimed: every deck fetched once, so the emulator renders the day's decks (its work, in
    its own process) before the timed run fetches them."""
    from pipeline.commpeak import CommPeakClient

    with CommPeakClient.from_settings(settings) as client:
        for tech_prefix in ids:
            client.download_rates(tech_prefix, scratch / "warm-up.csv")


def simulated_day(settings: Settings, ids: list[str], day: int, market_date: str) -> SimulatedDay:
    """One run as ``ratedeck run`` does it, timed, and the warehouse after it."""
    from pipeline.commpeak import CommPeakClient
    from pipeline.stages.voice import fetch_voice_decks, normalise_voice_deck
    from pipeline.warehouse.db import Warehouse

    start = time.perf_counter()
    landed = fetch_voice_decks(settings, lambda: CommPeakClient.from_settings(settings), ids)
    decks = [normalise_voice_deck(settings, landed[tp]) for tp in ids]
    load_start = time.perf_counter()
    loads = load_in_one_publish(settings, decks)
    end = time.perf_counter()
    with Warehouse(settings).reader() as con:
        [(rates,)] = con.execute("SELECT count(*) FROM voice_rate").fetchall()
    return SimulatedDay(
        day=day,
        market_date=market_date,
        run_s=end - start,
        load_s=end - load_start,
        changes=sum(count for load in loads for _, count in getattr(load, "changes", ())),
        rates_stored=rates,
        published_mb=settings.warehouse_path.stat().st_size / 1e6,
        on_disk_mb=warehouse_bytes_on_disk(Warehouse(settings)) / 1e6,
    )


def warehouse_bytes_on_disk(warehouse: Warehouse) -> int:
    """Blocks allocated to the warehouse's files, each file (inode) counted once: the published
    file and the working copy may be one file between two runs."""
    folders = {warehouse.published_path.parent, warehouse.state_dir}
    names = {warehouse.published_path.name, warehouse.working_path.name}
    seen: dict[tuple[int, int], int] = {}
    for folder in folders:
        for path in folder.iterdir():
            if path.is_file() and any(name in path.name for name in names | {"spare"}):
                info = path.stat()
                seen[(info.st_dev, info.st_ino)] = info.st_blocks * 512
    return sum(seen.values())


def compact_size(published: Path, scratch: Path) -> int:
    """Bytes of a fresh DuckDB file holding the same rows, written once (COPY FROM DATABASE)."""
    import duckdb

    target = scratch / "compact.duckdb"
    con = duckdb.connect()
    try:
        con.execute("ATTACH ? AS wh (READ_ONLY)", [str(published)])
        con.execute("ATTACH ? AS compact", [str(target)])
        con.execute("COPY FROM DATABASE wh TO compact")
        con.execute("DETACH compact")
    finally:
        con.close()
    return target.stat().st_size


def render_simulation(report: SimulationReport) -> str:
    lines = [
        f"bench_load --days {report.days}: {report.tech_prefixes} tech prefixes x "
        f"{report.deck_size:,} prefixes, the emulator's moving market; {machine_load()}",
        f"{'day':>4} {'date':<10} {'run s':>7} {'load s':>7} {'changes':>8} {'rates':>10} "
        f"{'published MB':>13} {'on disk MB':>11}",
    ]
    shown = report.history if len(report.history) <= 12 else _first_and_last(report.history)
    for d in shown:
        lines.append(
            f"{d.day:>4} {d.market_date:<10} {d.run_s:7.2f} {d.load_s:7.2f} {d.changes:8,} "
            f"{d.rates_stored:10,} {d.published_mb:13.1f} {d.on_disk_mb:11.1f}"
        )
    lines.append(
        f"last/first day run time {report.run_ratio:.2f}x (goal <= 1.5x); published warehouse "
        f"/ (decks + changes) {report.size_ratio:.2f}x (goal <= 2x; decks + changes written "
        f"once: {report.compact_mb:.1f} MB); every warehouse file on disk "
        f"{report.disk_ratio:.2f}x"
    )
    return "\n".join(lines)


def _first_and_last(history: list[SimulatedDay]) -> list[SimulatedDay]:
    return history[:5] + history[len(history) // 2 : len(history) // 2 + 1] + history[-5:]


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
    parser.add_argument(
        "--days",
        type=int,
        default=0,
        metavar="N",
        help="simulate N market days instead, one run a day (e.g. --days 90 --tech-prefixes 5)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = parser.parse_args(argv)
    if args.quick:
        args.tech_prefixes, args.deck_size = QUICK["tech_prefixes"], QUICK["deck_size"]
    if not 1 <= args.tech_prefixes <= 999 or args.deck_size < 10 or not 1 <= args.concurrency <= 32:
        parser.error("--tech-prefixes 1..999, --deck-size >= 10, --concurrency 1..32")
    if args.days:
        return main_simulation(args)
    report = run(args.tech_prefixes, args.deck_size, args.concurrency, args.latency)
    if args.json:
        document = asdict(report) | {"fetch_speedup": report.fetch_speedup}
        print(json.dumps(document, indent=2))
    else:
        print(render(report))
    return 0


def main_simulation(args: argparse.Namespace) -> int:
    report = simulate(args.days, args.tech_prefixes, args.deck_size, args.concurrency)
    if args.json:
        ratios = {"run_ratio": report.run_ratio, "size_ratio": report.size_ratio}
        print(json.dumps(asdict(report) | ratios | {"disk_ratio": report.disk_ratio}, indent=2))
    else:
        print(render_simulation(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
