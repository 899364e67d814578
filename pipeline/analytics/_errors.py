"""Errors of the longest-prefix-match engine."""

from __future__ import annotations

from pipeline.errors import InputError, RatedeckError


class DeckError(RatedeckError, ValueError):
    """A deck the engine cannot use (bad prefix, bad increments, wrong column type)."""


class CostOverflowError(InputError):
    """A call whose cost does not fit DECIMAL(18, decimals) (absurd duration or price)."""
