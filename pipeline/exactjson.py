"""JSON text -> Python values with nothing lost silently: the one parser for server bodies.

Used by the CommPeak client (every JSON answer) and by ingest (the landed SMS list and
balance), so both refuse the same things:

* a repeated key in an object (``{"rate": 0.05, "rate": 9.99}``): the standard library keeps
  the last value without a word, so a body the server garbled would load the wrong price;
* numbers are exact: ``Decimal`` for fractions, ``int`` for integers, and ``Decimal`` for an
  integer too long for ``int()`` (Python refuses over 4,300 digits) so that it reaches the
  range checks instead of failing the whole body.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

_INT_DIGITS = 100  # longer integers are no code or amount: Decimal, for the range checks


class DuplicateKeyError(ValueError):
    """An object in the JSON text names the same key twice."""

    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {key[:40]!r} in a JSON object")
        self.key = key


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise DuplicateKeyError(key)
        obj[key] = value
    return obj


def _exact_int(text: str) -> int | Decimal:
    return int(text) if len(text.lstrip("-")) <= _INT_DIGITS else Decimal(text)


def loads(text: str | bytes, *, parse_constant: Callable[[str], Any]) -> Any:
    """``json.loads`` with exact numbers and no repeated keys (raises DuplicateKeyError).

    ``parse_constant`` decides what ``NaN`` and ``Infinity`` become (a marker or an error).
    """
    return json.loads(
        text,
        parse_float=Decimal,
        parse_int=_exact_int,
        parse_constant=parse_constant,
        object_pairs_hook=_unique_object,
    )
