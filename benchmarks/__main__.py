"""Runs the benchmarks one after another: every ``benchmarks/bench_*.py`` module's ``main(argv)``.

    python -m benchmarks [--quick] [--list] [NAME ...]      (``make bench`` runs them all)

NAME is a module name with or without its ``bench_`` prefix (``ingest``, ``bench_lpm``,
``cdr_ingest``); every ``bench_*.py`` is found, none needs listing. Convention: each module's ``main(argv: list[str] | None = None)`` accepts ``--quick`` (small
sizes, for a smoke run). ``--quick`` passes ``--quick`` to the modules that declare it and
nothing to the others (they run at their defaults, and a line says so). A module that fails
does not stop the others; the exit code is 1 if any failed.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

PACKAGE = "benchmarks"
FOLDER = Path(__file__).resolve().parent
QUICK_FLAG = "--quick"


def discover() -> list[str]:
    """Module names of the benchmarks, sorted: ``['bench_history', 'bench_ingest', ...]``."""
    return sorted(path.stem for path in FOLDER.glob("bench_*.py"))


def resolve(names: Sequence[str], available: Sequence[str]) -> list[str]:
    """Module names for ``names`` (``ingest`` or ``bench_ingest``); all of them when empty.

    Raises ValueError naming the unknown ones.
    """
    if not names:
        return list(available)
    chosen = [name if name.startswith("bench_") else f"bench_{name}" for name in names]
    unknown = [name for name, module in zip(names, chosen, strict=True) if module not in available]
    if unknown:
        raise ValueError(
            f"unknown benchmark(s) {', '.join(unknown)}: choose from {', '.join(available)}"
        )
    return list(dict.fromkeys(chosen))


def accepts_quick(module: ModuleType) -> bool:
    """Whether the module's command line declares ``--quick`` (read from its source, so the
    benchmark itself is not run to find out)."""
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        return False
    return f'"{QUICK_FLAG}"' in source or f"'{QUICK_FLAG}'" in source


def arguments_for(module: ModuleType, quick: bool) -> list[str]:
    return [QUICK_FLAG] if quick and accepts_quick(module) else []


def run_one(name: str, quick: bool) -> tuple[bool, float]:
    """Imports and runs one benchmark; (succeeded, seconds). Failures are printed, not raised."""
    start = time.perf_counter()
    try:
        module = importlib.import_module(f"{PACKAGE}.{name}")
        entry = getattr(module, "main", None)
        if not callable(entry):
            print(f"{name}: no main(argv) function", file=sys.stderr)
            return False, time.perf_counter() - start
        argv = arguments_for(module, quick)
        print(f"== {name} {' '.join(argv)}".rstrip(), flush=True)
        if quick and not argv:
            print(f"({name} has no {QUICK_FLAG} option: running at its defaults)", flush=True)
        code = entry(argv)
    except SystemExit as exc:  # argparse errors exit; a benchmark may too
        code = exc.code if isinstance(exc.code, int) else 1
    except Exception:
        traceback.print_exc()
        code = 1
    ok = code in (0, None)
    if not ok:
        print(f"{name}: FAILED (exit {code})", file=sys.stderr)
    return ok, time.perf_counter() - start


def _machine() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def main(argv: Sequence[str] | None = None) -> int:
    available = discover()
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(available))
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(available))
        return 0
    try:
        chosen = resolve(args.names, available)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"benchmarks: {', '.join(chosen)}{' (quick)' if args.quick else ''}; {_machine()}")
    outcomes = []
    for name in chosen:
        ok, seconds = run_one(name, args.quick)
        outcomes.append((name, ok, seconds))
        print(flush=True)
    for name, ok, seconds in outcomes:
        print(f"{name:<20} {'ok' if ok else 'FAILED':<7} {seconds:7.1f} s")
    print(f"after: {_machine()}")
    return 0 if all(ok for _, ok, _ in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
