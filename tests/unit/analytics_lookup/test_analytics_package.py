"""``pipeline.analytics`` re-exports the engine's names, loading them only on first use."""

from __future__ import annotations

import subprocess
import sys

import polars as pl
import pytest

import pipeline.analytics as analytics


def test_every_exported_name_resolves():
    for name in analytics.__all__:
        assert getattr(analytics, name) is not None, name
    assert set(analytics.__all__) <= set(dir(analytics))


def test_from_import_gives_the_engine():
    from pipeline.analytics import DeckError, LpmEngine

    with pytest.raises(DeckError, match="deck lacks column"):
        LpmEngine(pl.DataFrame({"prefix": ["44"]}))


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = analytics.no_such_name


def test_diff_does_not_load_the_engine():
    """The report and Dagster paths import ``diff``: the engine (and pyarrow) stay unloaded."""
    probe = (
        "import sys, pipeline.analytics.diff; "
        "print(sorted(m for m in ('pyarrow', 'pipeline.analytics._engine') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
