"""Which data dir the demo may wipe: one it wrote itself and nothing else has written to since.

``ratedeck demo`` claims its data dir with a marker file holding a token only the demo process
knows. Every write into the landing zone (where every fetch of every run lands first) by any
other process, or by this process outside the demo, retires the marker: a ``ratedeck run``,
the Dagster UI or a schedule writing real data there turns the dir into one the demo refuses
to touch, so the demo never deletes history that a non-demo run wrote.
"""

from __future__ import annotations

import secrets
from pathlib import Path

DEMO_MARKER = ".ratedeck-demo"
_MARKER_HEAD = "this data dir was written by `ratedeck demo` and is rewritten by it"

_active: dict[Path, str] = {}  # data dir (resolved) -> token of the demo running in this process


def marker_path(data_dir: Path) -> Path:
    return Path(data_dir) / DEMO_MARKER


def is_demo_dir(data_dir: Path) -> bool:
    """The marker is there: nothing but the demo wrote into this dir since it was claimed."""
    return marker_path(data_dir).is_file()


def claim(data_dir: Path) -> None:
    """Mark ``data_dir`` as the demo's, for writes by this process until ``release``."""
    token = secrets.token_hex(16)
    marker_path(data_dir).write_text(f"{_MARKER_HEAD}\ntoken {token}\n", encoding="utf-8")
    _active[Path(data_dir).resolve()] = token


def release(data_dir: Path) -> None:
    """The demo is done: any later write into ``data_dir`` is not the demo's."""
    _active.pop(Path(data_dir).resolve(), None)


def retire_unless_demo(data_dir: Path) -> None:
    """Called before every landing-zone write: a write that is not the running demo's makes
    the dir real data (the marker goes), so no later demo wipes it."""
    marker = marker_path(data_dir)
    try:
        text = marker.read_text(encoding="utf-8")
    except FileNotFoundError:
        return
    token = _active.get(Path(data_dir).resolve())
    if token is None or f"token {token}\n" not in text:
        marker.unlink(missing_ok=True)
