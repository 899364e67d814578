"""Secrets never leave the process: the whole demo runs with a recognisable API key, SMTP user
and password; afterwards not one file under the data dir (DuckDB files, raw downloads,
parquet, .eml, the Dagster home with its run storage, event logs and compute logs), nor stdout,
nor stderr contains any of them. A failing run with --debug prints a traceback without the key.
"""

from __future__ import annotations

import base64
import email
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import polars as pl
import pytest
from support.reliability import dump_warehouse
from support.reliability_cli import RATEDECK, REPO, cli_env

pytestmark = pytest.mark.slow  # the full `ratedeck demo`

API_KEY = "sk-live-CANARY-7f3a9"
SMTP_USER = "smtp-user-CANARY-2b8e1"
SMTP_PASSWORD = "smtp-pass-CANARY-c41d7"


def needles() -> list[bytes]:
    """The secrets as text, and as they would look in an Authorization or AUTH PLAIN header."""
    plain = [API_KEY, SMTP_USER, SMTP_PASSWORD]
    encoded = [
        base64.b64encode(f"\0{SMTP_USER}\0{SMTP_PASSWORD}".encode()).decode(),
        base64.b64encode(SMTP_PASSWORD.encode()).decode(),
    ]
    return [s.encode() for s in plain + encoded]


def leaks(data: bytes) -> list[bytes]:
    return [needle for needle in needles() if needle in data]


def readable_forms(path: Path) -> list[bytes]:
    """The file's bytes, plus what compression or encoding could hide from a byte search:
    DuckDB tables (compressed columns), parquet (compressed pages), email parts (base64,
    quoted-printable), zip members (xlsx)."""
    data = path.read_bytes()
    forms = [data]
    if path.suffix == ".duckdb":
        forms.append(repr(dump_warehouse(path)).encode())
    elif path.suffix == ".parquet":
        forms.append(pl.read_parquet(path).write_csv().encode())
    elif path.suffix == ".eml":
        message = email.message_from_bytes(data)
        forms += [part.get_payload(decode=True) or b"" for part in message.walk()]
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            forms += [archive.read(name) for name in archive.namelist()]
    return forms


def file_leaks(path: Path) -> list[bytes]:
    return sorted({hit for form in readable_forms(path) for hit in leaks(form)})


def test_demo_leaves_no_secret_anywhere(tmp_path):
    data_dir = tmp_path / "data"
    env = cli_env("http://127.0.0.1:9", data_dir, api_key=API_KEY)
    del env["COMMPEAK_BASE_URL"]  # the demo starts its own emulator
    env.update(RATEDECK_SMTP_USER=SMTP_USER, RATEDECK_SMTP_PASSWORD=SMTP_PASSWORD)
    command = [str(RATEDECK)] if RATEDECK.exists() else [sys.executable, "-m", "pipeline.cli"]
    demo = subprocess.run(
        [*command, "demo", "--deck-size", "300"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=600,
    )
    assert demo.returncode == 0, demo.stderr.decode(errors="replace")[-2000:]

    files = [p for p in data_dir.rglob("*") if p.is_file()]
    kinds = {p.suffix for p in files}
    # the search covered what the issue names: warehouse, raw, parquet, email, Dagster storage
    assert {".duckdb", ".csv", ".parquet", ".eml", ".db"} <= kinds, kinds
    assert any("dagster_home" in p.parts for p in files)
    found = {str(p.relative_to(data_dir)): file_leaks(p) for p in files}
    assert {name: hit for name, hit in found.items() if hit} == {}
    assert leaks(demo.stdout) == []
    assert leaks(demo.stderr) == []


def test_debug_traceback_of_a_401_does_not_show_the_key(tmp_path, emulator):
    emulator.set_faults("401")
    config = tmp_path / "ratedeck.toml"
    config.write_text('[voice]\ntech_prefixes = ["021001"]\n[sms]\nchannels = []\n')
    env = cli_env(emulator.url, tmp_path / "data", api_key=API_KEY)
    command = [str(RATEDECK)] if RATEDECK.exists() else [sys.executable, "-m", "pipeline.cli"]
    run = subprocess.run(
        [*command, "run", "--config", str(config), "--select", "voice", "--debug"],
        env=env,
        cwd=REPO,
        capture_output=True,
        timeout=300,
    )
    assert run.returncode != 0
    stderr = run.stderr.decode(errors="replace")
    assert "Traceback" in stderr and "401" in stderr  # --debug does show the traceback...
    assert leaks(run.stdout + run.stderr) == []  # ...but never the key
    # and the emulator saw the key only as a redacted header
    assert emulator.request_log and all(
        API_KEY not in str(record.headers) for record in emulator.request_log
    )
    files = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert [p for p in files if file_leaks(p)] == []
