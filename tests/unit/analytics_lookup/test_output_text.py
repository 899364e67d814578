"""``OutputText``: the Enum text columns of a costed stream, fixed before its first batch."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from pipeline.analytics import DeckError, LpmEngine
from pipeline.analytics.lookup import OutputText


def _engine(prefix: str, destination: str) -> LpmEngine:
    deck = {
        "prefix": [prefix],
        "destination": [destination],
        "price": [Decimal("0.1")],
        "initial_seconds": [1],
        "increment_seconds": [1],
    }
    return LpmEngine(pl.DataFrame(deck))


def test_the_engine_text_is_recast_to_the_enums_once_per_engine():
    text = OutputText(["b", "a", "b"], ["1", "2"], ["One", "Two"])
    assert text.tech_prefix == pl.Enum(["b", "a"])  # in the order asked, once each
    engine = _engine("2", "Two")
    table = text.table("a", engine)
    assert table.schema["matched_prefix"] == pl.Enum(["1", "2"])
    assert table.schema["destination"] == pl.Enum(["One", "Two"])
    assert table["matched_prefix"].to_list() == ["2", None]  # the deck row, then "no match"
    assert text.table("a", engine) is table
    other = _engine("1", "One")
    assert text.table("a", other)["matched_prefix"].to_list() == ["1", None]


def test_a_deck_value_outside_the_categories_is_a_clear_error():
    text = OutputText(["a"], ["1"], ["One"])
    with pytest.raises(DeckError, match=r"tech prefix a: .*--no-cache"):
        text.table("a", _engine("2", "One"))
