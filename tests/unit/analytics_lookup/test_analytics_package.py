"""``pipeline.analytics`` re-exports the engine's names, loading them only on first use."""

from __future__ import annotations

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
