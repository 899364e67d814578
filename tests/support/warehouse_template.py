"""An empty warehouse with every migration, view and macro applied, made once per test process
and copied where a test starts a new one: migrating a new file costs about 0.3 s of CPU, a copy
about 0.02 s, and a few hundred tests start from an empty warehouse.

The copy is what the first writer leaves behind (``Warehouse.writer()`` on an empty data dir
migrates the working copy, checkpoints it and publishes the same bytes), so the product code
that runs next (``apply_migrations`` included, which then finds nothing to do) is the real one.
Tests of migrating a new file itself do not use this.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import duckdb

from pipeline.settings import Settings
from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.migrate import apply_migrations

_template: Path | None = None


def migrated_template() -> Path:
    """The template file, made on first use in this process (removed when it exits)."""
    global _template
    if _template is None:
        folder = Path(tempfile.mkdtemp(prefix="ratedeck-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = folder / "warehouse.duckdb"
        with duckdb.connect(str(path)) as con:
            apply_migrations(con)
            con.execute("CHECKPOINT")
        _template = path
    return _template


def copy_migrated(path: Path) -> Path:
    """A migrated, empty warehouse file at ``path`` (its folder created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(migrated_template(), path)
    return path


def start_warehouse(settings: Settings) -> None:
    """The settings' warehouse as its first writer leaves it (a published file and a working
    copy, both migrated and empty), unless it has either file already."""
    warehouse = Warehouse(settings)
    if warehouse.published_path.exists() or warehouse.working_path.exists():
        return
    copy_migrated(warehouse.working_path)
    copy_migrated(warehouse.published_path)
