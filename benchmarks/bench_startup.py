"""Start-up and the demo: ``ratedeck --help``, a one-number ``ratedeck lookup`` and the whole
``ratedeck demo`` (two market days, 3 tech prefixes, 2 SMS channels), each run as a user runs
it (the installed ``ratedeck`` command in a subprocess), ``--repeat`` times; medians.

    python -m benchmarks.bench_startup [--repeat 3] [--skip-demo] [--quick]

The demo runs first, into a temporary data dir, and the lookups read its warehouse. Wall
time and CPU time (user + system of the subprocess) are printed side by side: on a shared
machine the wall clock also measures the other jobs, the CPU time only the command.
Goals (issue 15): --help and lookup under 0.5 s, the demo under 30 s, on a warm venv.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

RATEDECK = Path(sys.executable).with_name("ratedeck")
LOOKUP = ["lookup", "+353 89 412 3456", "--duration", "185"]
GOALS_S = {"--help": 0.5, "lookup": 0.5, "demo": 30.0}


@dataclass
class Timing:
    wall_s: float
    cpu_s: float


def timed(argv: list[str], env: dict[str, str]) -> Timing:
    """One run of ``ratedeck argv``; a failure stops the benchmark with its stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([str(RATEDECK), *argv], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"ratedeck {' '.join(argv)} failed: {done.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu)


def run(repeat: int, demo: bool) -> dict[str, list[Timing]]:
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RATEDECK_", "COMMPEAK_"))}
        env["RATEDECK_DATA_DIR"] = str(Path(tmp) / "data")
        # the lookups read the warehouse of the (last) demo
        demos = [timed(["demo"], env) for _ in range(repeat if demo else 1)]
        timings = {"demo": demos} if demo else {}
        timings["--help"] = [timed(["--help"], env) for _ in range(repeat)]
        timings["lookup"] = [timed(LOOKUP, env) for _ in range(repeat)]
    return timings


def render(timings: dict[str, list[Timing]]) -> str:
    lines = [
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs",
        f"{'command':<10} {'wall s':>8} {'CPU s':>7} {'goal s':>7}  verdict  wall s of each run",
    ]
    for name, runs in timings.items():
        wall = statistics.median(t.wall_s for t in runs)
        cpu = statistics.median(t.cpu_s for t in runs)
        verdict = "PASS" if wall < GOALS_S[name] else "MISS"
        each = ", ".join(f"{t.wall_s:.2f}" for t in runs)
        lines.append(
            f"{name:<10} {wall:>8.2f} {cpu:>7.2f} {GOALS_S[name]:>7.1f}  {verdict:<7}  {each}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_startup")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command (default 3)")
    parser.add_argument(
        "--skip-demo",
        action="store_true",
        help="run the demo once, untimed (the lookups need its warehouse)",
    )
    parser.add_argument("--quick", action="store_true", help="one run of each")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else args.repeat
    print(render(run(repeat, demo=not args.skip_demo)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
