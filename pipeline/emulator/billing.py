"""How the emulated carrier rates a call: longest prefix match, increments, exact cost.

The same rule as ratedeck (``pipeline/analytics/_money.py``, the ``lpm_cost`` SQL macro):
billed = 0 for 0 s, the initial block when d <= a, else a + ceil((d - a) / b) * b; cost =
price per minute * billed / 60, rounded once, half up, to 6 decimals. Prices are integers of
1e-5 (the market's units), costs integers of 1e-6 ("micros"); Decimal only at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from pipeline.emulator.universe import UNITS_PER_CURRENCY

MICROS_PER_CURRENCY = 1_000_000
COST_DECIMALS = 6  # ratedeck's default report.cost_decimals
_PRICE_TO_MICROS = 10  # market price units are 1e-5


def billed_seconds(seconds: int, initial: int, increment: int) -> int:
    if seconds <= 0:
        return 0
    if seconds <= initial:
        return initial
    return initial + -(-(seconds - initial) // increment) * increment


def cost_micros(price_units: int, billed: int) -> int:
    """price (1e-5 per minute) * billed seconds / 60, in 1e-6, half up (prices are >= 0)."""
    numerator = price_units * billed * _PRICE_TO_MICROS
    return (2 * numerator + 60) // 120


@lru_cache(maxsize=1 << 16)
def units_to_decimal(units: int) -> Decimal:
    """A market price, exact, no trailing zeros and no exponent: 1850 -> 0.0185, 0 -> 0."""
    whole, frac = divmod(units, UNITS_PER_CURRENCY)
    text = f"{whole}.{frac:05d}".rstrip("0").rstrip(".")
    return Decimal(text)


def micros_to_decimal(micros: int) -> Decimal:
    """Exact, fixed 6 decimals: 1234 -> Decimal('0.001234'), -5 -> Decimal('-0.000005')."""
    return Decimal(micros).scaleb(-COST_DECIMALS)


def micros_to_amount(micros: int) -> Decimal:
    """A balance as the API shows it: exact, no trailing zeros (-12500000 -> -12.5)."""
    amount = micros_to_decimal(micros)
    if amount == amount.to_integral_value():
        return amount.quantize(Decimal(1))
    return amount.normalize()


@dataclass(frozen=True, slots=True)
class Rate:
    """The deck row that bills a number: its prefix, destination, price and increments."""

    prefix: str
    destination: str
    price_units: int
    initial_seconds: int
    increment_seconds: int

    def billed(self, seconds: int) -> int:
        return billed_seconds(seconds, self.initial_seconds, self.increment_seconds)

    def cost(self, seconds: int) -> int:
        return cost_micros(self.price_units, self.billed(seconds))


# a market row: destination, price units, initial seconds, increment seconds, effective date
MarketRow = tuple[str, int, int, int, date]
Announced = dict[str, tuple[int, date]]  # prefix -> (price units, effective date)


class RatingDeck:
    """One plan's rows in force on one day, rated by longest prefix match."""

    def __init__(self, rows: dict[str, MarketRow], announced: Announced) -> None:
        self._rows = rows
        self.announced = announced  # changes announced for a later day

    def rate(self, number: str) -> Rate | None:
        for length in range(len(number), 0, -1):
            row = self._rows.get(number[:length])
            if row is not None:
                return Rate(number[:length], row[0], row[1], row[2], row[3])
        return None
