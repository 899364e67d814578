"""Analytics over the warehouse: the longest-prefix-match engine, lookups, costs and diffs.

The engine's public names are re-exported here from its private modules: ``_prefix_index``
(keys, trie), ``_money`` (billed seconds, cost units), ``_versions`` (validity over time) and
``_engine`` (``LpmEngine``). Import them from this package.

They load on first use (PEP 562 ``__getattr__``), not with the package: the report and Dagster
paths import ``pipeline.analytics.diff``, and the engine would add pyarrow to them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.analytics._engine import DECK_COLUMNS, RATE_COLUMNS, TEXT_DTYPE, LpmEngine
    from pipeline.analytics._errors import CostOverflowError, DeckError
    from pipeline.analytics._money import PRICE_DTYPE, PRICE_SCALE, billed_seconds, cost_units
    from pipeline.analytics._prefix_index import NO_MATCH
    from pipeline.analytics._versions import epoch_us, epoch_us_series

_EXPORTS = {
    "DECK_COLUMNS": "_engine",
    "RATE_COLUMNS": "_engine",
    "TEXT_DTYPE": "_engine",
    "LpmEngine": "_engine",
    "CostOverflowError": "_errors",
    "DeckError": "_errors",
    "PRICE_DTYPE": "_money",
    "PRICE_SCALE": "_money",
    "billed_seconds": "_money",
    "cost_units": "_money",
    "NO_MATCH": "_prefix_index",
    "epoch_us": "_versions",
    "epoch_us_series": "_versions",
}

__all__ = [
    "DECK_COLUMNS",
    "NO_MATCH",
    "PRICE_DTYPE",
    "PRICE_SCALE",
    "RATE_COLUMNS",
    "TEXT_DTYPE",
    "CostOverflowError",
    "DeckError",
    "LpmEngine",
    "billed_seconds",
    "cost_units",
    "epoch_us",
    "epoch_us_series",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
