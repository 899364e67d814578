"""Day-by-day simulation with a cursor and checkpoints.

Day N is always derived from day N-1 by that day's events, so any two requests for the same
day agree however they were reached. Walking forward is incremental (the cursor), walking
back restarts from the nearest checkpoint instead of from the first day.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import date, timedelta
from typing import Generic, TypeVar

S = TypeVar("S")
V = TypeVar("V")


class History(Generic[S, V]):
    def __init__(
        self,
        start: date,
        initial: Callable[[], S],
        step: Callable[[S, date], None],
        clone: Callable[[S], S],
        view: Callable[[S], V],
        checkpoint_every: int = 30,
    ) -> None:
        self._start = start
        self._initial, self._step, self._clone, self._view = initial, step, clone, view
        self._every = checkpoint_every
        self._checkpoints: dict[int, S] = {}
        self._cursor: tuple[int, S] | None = None
        self._lock = threading.Lock()

    def at(self, day: date) -> V:
        """The view of the state at the end of ``day`` (days before the start do not exist)."""
        target = (day - self._start).days
        if target < 0:
            raise ValueError(f"{day} is before the market's first day {self._start}")
        with self._lock:
            index, state = self._position_at_or_before(target)
            while index < target:
                index += 1
                self._step(state, self._start + timedelta(days=index))
                if index % self._every == 0 and index not in self._checkpoints:
                    self._checkpoints[index] = self._clone(state)
            self._cursor = (index, state)
            return self._view(state)

    def _position_at_or_before(self, target: int) -> tuple[int, S]:
        if self._cursor is not None and self._cursor[0] <= target:
            return self._cursor
        if 0 not in self._checkpoints:
            self._checkpoints[0] = self._initial()
        best = max(i for i in self._checkpoints if i <= target)
        return best, self._clone(self._checkpoints[best])


def day_rng(*parts: object) -> random.Random:
    """A generator seeded from text: stable across runs and processes (no hash salt)."""
    return random.Random(":".join(str(p) for p in parts))


class Bag:
    """A set with O(1) add, remove and seeded random choice (order is part of the state)."""

    __slots__ = ("_items", "_index")

    def __init__(self, items: list | None = None) -> None:
        self._items: list = list(items or [])
        self._index: dict = {item: i for i, item in enumerate(self._items)}

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, item: object) -> bool:
        return item in self._index

    def add(self, item: object) -> None:
        if item not in self._index:
            self._index[item] = len(self._items)
            self._items.append(item)

    def remove(self, item: object) -> None:
        i = self._index.pop(item)
        last = self._items.pop()
        if i < len(self._items):
            self._items[i] = last
            self._index[last] = i

    def choice(self, rng: random.Random):
        return self._items[rng.randrange(len(self._items))]

    def copy(self) -> Bag:
        new = Bag.__new__(Bag)
        new._items = self._items.copy()
        new._index = self._index.copy()
        return new
