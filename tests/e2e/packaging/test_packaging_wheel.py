"""The built wheel carries everything ratedeck reads: installed into a fresh venv outside the
checkout, ``ratedeck demo`` runs from an empty folder (SQL, reference tables, templates and
all come from the installed package, never from the source tree)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
UV = str(Path(sys.executable).with_name("uv"))
TIMEOUT_S = 600

pytestmark = pytest.mark.slow


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    assert done.returncode == 0, f"{args[:3]}: {done.stderr[-3000:]}"
    return done.stdout


def outside_env(home: Path) -> dict[str, str]:
    """No trace of the checkout: no ratedeck/CommPeak settings, no PYTHONPATH, another HOME."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RATEDECK_", "COMMPEAK_", "VIRTUAL_ENV", "PYTHON", "DAGSTER_"))
    }
    env["HOME"] = str(home)
    env.setdefault("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv"))
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run([UV, "build", "--wheel", "--out-dir", str(out), str(REPO_ROOT)], cwd=REPO_ROOT)
    [built] = out.glob("ratedeck-*.whl")
    return built


def test_the_wheel_holds_the_sql_and_reference_tables(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("schema", "views", "macros", "queries"):
        assert any(n.startswith(f"pipeline/sql/{folder}/") and n.endswith(".sql") for n in names)
    assert "pipeline/reference/mcc_mnc.csv" in names
    assert "pipeline/reference/emulator_numbering_plan.csv" in names
    assert any(n.startswith("pipeline/reports/templates/") for n in names)
    assert not any(n.startswith(("tests/", "benchmarks/", "tools/")) for n in names)


def test_an_installed_wheel_runs_the_demo_from_an_empty_folder(wheel, tmp_path):
    venv, work, home = tmp_path / "venv", tmp_path / "empty", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    env = outside_env(home)
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(
        run(
            [UV, "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes"],
            cwd=REPO_ROOT,
        )
    )
    run([UV, "venv", "--quiet", "--python", sys.executable, str(venv)], cwd=work, env=env)
    python = venv / "bin" / "python"
    # no --compile-bytecode (uv's default, as pip's is to compile): compiling every module of
    # every dependency costs ~15 s of CPU; the demo compiles only what it imports
    install = [UV, "pip", "install", "--quiet", "--python", str(python)]
    run([*install, "-c", str(constraints), str(wheel)], cwd=work, env=env)

    where = run([str(python), "-c", "import pipeline; print(pipeline.__file__)"], cwd=work, env=env)
    assert Path(where.strip()).is_relative_to(venv), where

    out = run(
        [str(venv / "bin" / "ratedeck"), "demo", "--deck-size", "200", "--json"], cwd=work, env=env
    )
    doc = json.loads(out)
    assert doc["ok"] is True
    assert doc["what_changed"]["voice_total"] > 0
    warehouse = work / doc["locations"]["warehouse"]  # relative to where it ran
    assert warehouse.resolve().is_relative_to(work.resolve()) and warehouse.exists()
