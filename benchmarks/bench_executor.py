"""Executor: one run of the 3-step ``voice_daily`` job (one tech prefix, from the emulator over
loopback), launched as a run worker launches it (``dagster.execute_job`` of a reconstructable
job on a persistent instance, configured as ``make dev`` configures it), under the in-process
executor and under the multiprocess executor (a subprocess per step); prints the ratio.

    python -m benchmarks.bench_executor [--repeat 3] [--deck-size 2000] [--quick]

After an untimed warm-up run, the runs alternate between the two executors, each on a fresh data dir (every run loads the
same deck into an empty warehouse); the figures are medians. A run worker's own start-up (the
UI and the daemon launch each run in a new process) is the same for both and not included.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from benchmarks.bench_load import API_KEY, EmulatorProcess
from pipeline.defs import AREA_JOBS, build_definitions
from pipeline.orchestrate import QUIET_CONSOLE, prepare_dagster_home
from pipeline.settings import load_settings

TECH_PREFIX = "current"
CONFIG = f"""\
[voice]
tech_prefixes = ["{TECH_PREFIX}"]
[sms]
channels = []
[api]
max_retries = 0
"""
QUICK = {"repeat": 1, "deck_size": 300}


def voice_daily() -> dg.JobDefinition:
    """The job as the code location defines it, with settings from the environment."""
    return build_definitions(load_settings()).resolve_job_def(AREA_JOBS["voice"])


# One module-level factory per executor: Dagster rebuilds a reconstructable job from its
# function's name (in each step subprocess too) and caches what it built under that name.
def voice_daily_in_process() -> dg.JobDefinition:
    return voice_daily().with_executor_def(dg.in_process_executor)


def voice_daily_multiprocess() -> dg.JobDefinition:
    return voice_daily().with_executor_def(dg.multiprocess_executor)


EXECUTORS = {"in_process": voice_daily_in_process, "multiprocess": voice_daily_multiprocess}


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass
class Timing:
    wall_s: float
    # this process and its finished children (the step subprocesses): on a busy machine the
    # wall clock mostly measures the other jobs, CPU time what the run itself costs
    cpu_s: float
    step_processes: int


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_run(instance: dg.DagsterInstance, executor: str, data_dir: Path) -> Timing:
    """One voice_daily run of TECH_PREFIX into a fresh warehouse in ``data_dir``."""
    with _environment({"RATEDECK_DATA_DIR": str(data_dir)}):
        start, cpu = time.perf_counter(), cpu_seconds()
        result = dg.execute_job(
            dg.reconstructable(EXECUTORS[executor]),
            instance,
            run_config=QUIET_CONSOLE,
            tags={"dagster/partition": TECH_PREFIX},
        )
        timing = Timing(time.perf_counter() - start, cpu_seconds() - cpu, 0)
    if not result.success:
        raise RuntimeError(f"voice_daily under {executor} failed: run {result.run_id}")
    timing.step_processes = sum(
        1 for event in result.all_events if event.event_type_value == "STEP_WORKER_STARTED"
    )
    return timing


def run(repeat: int, deck_size: int) -> dict[str, list[Timing]]:
    timings: dict[str, list[Timing]] = {name: [] for name in EXECUTORS}
    with (
        tempfile.TemporaryDirectory(prefix="bench-executor-") as tmp,
        EmulatorProcess([TECH_PREFIX], deck_size, 0.0) as url,
    ):
        folder = Path(tmp)
        (folder / "ratedeck.toml").write_text(CONFIG, encoding="utf-8")
        environment = {
            "RATEDECK_CONFIG": str(folder / "ratedeck.toml"),
            "COMMPEAK_BASE_URL": url,
            "COMMPEAK_API_KEY": API_KEY,
            "RATEDECK_DATA_DIR": str(folder / "data"),
        }
        with _environment(environment):
            home = prepare_dagster_home(load_settings())
            with dg.DagsterInstance.from_config(str(home)) as instance:
                # untimed: imports, the emulator's first rendering of the deck, the instance's
                # own first writes
                timed_run(instance, "in_process", folder / "data-warm-up")
                for attempt in range(repeat):
                    for name in EXECUTORS:
                        data_dir = folder / f"data-{name}-{attempt}"
                        timings[name].append(timed_run(instance, name, data_dir))
    return timings


def render(timings: dict[str, list[Timing]], deck_size: int) -> str:
    wall = {name: statistics.median(t.wall_s for t in runs) for name, runs in timings.items()}
    cpu = {name: statistics.median(t.cpu_s for t in runs) for name, runs in timings.items()}
    lines = [
        f"voice_daily, 1 tech prefix x {deck_size} prefixes, 3 steps; "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs",
        f"{'executor':<14} {'wall s':>7} {'CPU s':>7} {'step processes':>15}  wall s of each run",
    ]
    for name, runs in timings.items():
        each = ", ".join(f"{t.wall_s:.2f}" for t in runs)
        processes = runs[0].step_processes
        lines.append(f"{name:<14} {wall[name]:>7.2f} {cpu[name]:>7.2f} {processes:>15}  {each}")
    lines.append(
        f"multiprocess / in_process: {wall['multiprocess'] / wall['in_process']:.1f}x wall, "
        f"{cpu['multiprocess'] / cpu['in_process']:.1f}x CPU (medians)"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_executor")
    parser.add_argument("--repeat", type=int, default=3, help="runs per executor (default 3)")
    parser.add_argument("--deck-size", type=int, default=2000, help="prefixes in the deck")
    parser.add_argument("--quick", action="store_true", help="1 run each, 300 prefixes")
    args = parser.parse_args(argv)
    repeat, deck_size = (
        (QUICK["repeat"], QUICK["deck_size"])
        if args.quick
        else (
            args.repeat,
            args.deck_size,
        )
    )
    print(render(run(repeat, deck_size), deck_size))
    return 0


if __name__ == "__main__":
    # through the package's name: the job factories must be importable by step subprocesses
    from benchmarks.bench_executor import main as package_main

    raise SystemExit(package_main())
