"""Money of the LPM engine, in integers: no float where a price or a cost passes.

Prices are units of 1e-8 (``int64``); a cost is ``price_units × billed`` divided by
``60·10^(8-decimals)`` with half-up rounding (half away from zero for a negative price), the
rounding the SQL macros use.
"""

from __future__ import annotations

from decimal import Decimal
from typing import cast

import numpy as np
import polars as pl

from pipeline.analytics._errors import CostOverflowError, DeckError

PRICE_SCALE = 8  # prices are DECIMAL(18, 8): integer units of 1e-8
PRICE_DTYPE = pl.Decimal(18, PRICE_SCALE)
_INT64_HEADROOM = 2**62  # |price_units × billed| below this leaves room for the rounding


def price_units(price: pl.Series) -> np.ndarray:
    """A Decimal price column as int64 units of 1e-8; refuses nulls and out-of-range."""
    if not isinstance(price.dtype, pl.Decimal) or price.dtype.scale > PRICE_SCALE:
        raise DeckError(f"price: expected Decimal with <= {PRICE_SCALE} places, got {price.dtype}")
    if price.null_count():
        raise DeckError("price: null price in the deck")
    units = price.cast(pl.Decimal(38, PRICE_SCALE)).to_physical()  # exact: the scale only grows
    if len(units) and cast(int, units.abs().max()) >= 2**63:  # an integer column's max
        raise DeckError("price: out of range")
    return units.cast(pl.Int64).to_numpy()


def billed_seconds(durations: np.ndarray, initial: np.ndarray, increment: np.ndarray) -> np.ndarray:
    """d = 0 -> 0; d <= a -> a; else a + ceil((d - a)/b)·b (int64; in place, few temporaries)."""
    billed: np.ndarray = durations - initial
    np.maximum(billed, 0, out=billed)
    billed += increment
    billed -= 1
    billed //= increment
    billed *= increment
    billed += initial
    billed[durations == 0] = 0
    return billed


def cost_units(
    price_units: np.ndarray,
    billed: np.ndarray,
    decimals: int,
    *,
    top_price: int | None = None,
    negative: bool | None = None,
) -> np.ndarray:
    """price per minute × billed / 60, in units of 10^-decimals, rounded half-up once;
    ``CostOverflowError`` (the first such call) where a cost does not fit DECIMAL(18, decimals).

    ``top_price`` (largest |price_units|) and ``negative`` (any price < 0) may be passed
    when known, to spare a pass over the data.
    """
    cost, overflow = cost_units_or_overflow(
        price_units, billed, decimals, top_price=top_price, negative=negative
    )
    if overflow:
        raise CostOverflowError(overflow[min(overflow)])
    return cost


def cost_units_or_overflow(
    price_units: np.ndarray,
    billed: np.ndarray,
    decimals: int,
    *,
    top_price: int | None = None,
    negative: bool | None = None,
) -> tuple[np.ndarray, dict[int, str]]:
    """``cost_units``, and the costs that do not fit DECIMAL(18, decimals) set aside instead of
    raised: ``{position: reason}`` (their cost entries are 0, meaningless).

    The common case is one int64 pass. Only where price × billed may leave int64 (a batch
    with a huge price or call) are the calls at risk picked out and costed in Python ints."""
    if not 0 <= decimals <= PRICE_SCALE:
        raise ValueError(f"cost decimals must be 0..{PRICE_SCALE}, got {decimals}")
    divisor = 60 * 10 ** (PRICE_SCALE - decimals)  # always even: half = divisor // 2
    if negative is None:
        negative = bool(len(price_units) and price_units.min() < 0)
    if top_price is None:
        top_price = int(np.abs(price_units).max()) if len(price_units) else 0
    top_billed = int(billed.max()) if len(billed) else 0
    if top_price * top_billed < _INT64_HEADROOM:  # the common case: nothing can overflow
        return _cost_units_int64(price_units, billed, divisor, negative), {}
    # |price| <= limit keeps |price × billed| below the headroom: int64 is exact there
    limit = (_INT64_HEADROOM - 1) // np.maximum(billed, 1)
    at_risk = np.flatnonzero(np.abs(price_units) > limit)
    safe_prices = price_units.copy()
    safe_prices[at_risk] = 0
    cost = _cost_units_int64(safe_prices, billed, divisor, negative)
    overflow = {}
    for position in at_risk.tolist():
        price, seconds = int(price_units[position]), int(billed[position])
        units = _cost_units_exact(price, seconds, divisor)
        if units is None:
            overflow[position] = overflow_reason(price, seconds, decimals)
        else:
            cost[position] = units
    return cost, overflow


def overflow_reason(price_units: int, seconds: int, decimals: int) -> str:
    """Why a call cannot be costed: its cost is beyond DECIMAL(18, decimals)."""
    price = Decimal(price_units).scaleb(-PRICE_SCALE)
    return (
        f"a call of {seconds} billed seconds at {price} per minute costs more than "
        f"DECIMAL(18, {decimals}) can hold"
    )


def _cost_units_int64(
    price_units: np.ndarray, billed: np.ndarray, divisor: int, negative: bool
) -> np.ndarray:
    numerator: np.ndarray = price_units * billed
    half = np.int64(divisor // 2)
    if negative:  # half away from zero, like the SQL macro
        magnitude = (np.abs(numerator) + half) // np.int64(divisor)
        rounded: np.ndarray = np.where(numerator < 0, -magnitude, magnitude)
        return rounded
    numerator += half
    numerator //= np.int64(divisor)
    return numerator


def _cost_units_exact(price: int, seconds: int, divisor: int) -> int | None:
    """One cost in Python ints (exact at any size); None beyond DECIMAL(18, decimals)."""
    numerator = price * seconds
    magnitude = (2 * abs(numerator) + divisor) // (2 * divisor)
    if magnitude >= 10**18:  # DECIMAL(18, decimals) holds 18 digits
        return None
    return -magnitude if numerator < 0 else magnitude
