"""The time a fetch is stamped with: the wall clock, or the demo's clock.

``ratedeck demo`` replays yesterday's market as if it had been fetched yesterday, so its
history spans real days (a runway over a real window, past calls that can be costed). It does
so by shifting this clock for the fetches it runs in its own process; nothing else shifts it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime (a naive one is taken to be UTC already)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC) + _offset


@contextmanager
def running_from(start: datetime) -> Iterator[None]:
    """Inside the block the clock reads ``start`` now, and runs on from there."""
    global _offset
    previous = _offset
    _offset = start - datetime.now(UTC)
    try:
        yield
    finally:
        _offset = previous
