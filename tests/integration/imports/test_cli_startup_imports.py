"""``ratedeck --help`` and ``ratedeck --version`` answer without loading Dagster or a data
library: the heavy modules load inside the commands that use them (docs/benchmarks.md has the
start-up times). Checked on ``sys.modules`` in a fresh interpreter, not on a clock."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("dagster", "polars", "duckdb", "numpy", "pyarrow", "matplotlib", "pydantic")


def modules_loaded_by(argv: list[str]) -> list[str]:
    probe = (
        "import sys\n"
        "from pipeline.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(' '.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return done.stdout.splitlines()[-1].split()


@pytest.mark.parametrize("argv", [["--help"], ["--version"]])
def test_top_level_help_and_version_load_nothing_heavy(argv):
    assert modules_loaded_by(argv) == []


def test_run_help_loads_neither_dagster_nor_data_libraries():
    assert modules_loaded_by(["run", "--help"]) == ["pydantic"]  # the settings, nothing more


def test_a_table_of_calls_is_laid_out_without_importing_rich():
    probe = (
        "import sys\n"
        "from pipeline import console\n"
        "console.format_table(['tech_prefix', 'calls', 'cost'], [('current', 3, '1.5')])\n"
        "print('rich' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False"]
