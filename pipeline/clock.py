"""The time a fetch is stamped with (the wall clock, or the demo's clock), and the moments a
user may give (``parse_moment``, ``EARLIEST`` to ``LATEST``).

``ratedeck demo`` replays yesterday's market as if it had been fetched yesterday, so its
history spans real days (a runway over a real window, past calls that can be costed). It does
so by shifting this clock for the fetches it runs in its own process; nothing else shifts it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from pipeline.errors import InputError

_offset = timedelta(0)

# The moments ratedeck takes from a user (lookup --at, diff --since, a call's started_at): what
# Python's datetime holds in UTC. The warehouse's TIMESTAMPTZ and the engine's int64 epoch
# microseconds hold far more (about 290,000 years either way); it is turning a moment back into
# a datetime that overflows beyond these.
EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)
MOMENT_RANGE = "0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z"


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime (a naive one is taken to be UTC already)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_moment(text: str, option: str) -> datetime:
    """A user's moment (``2026-11-05``, ``2026-11-05T06:00``, ``2026-11-05 06:00:00+01:00``,
    ``...Z``; UTC unless it has an offset) as an aware UTC datetime. ``InputError`` naming
    ``option`` when it is not one, or lies outside ``MOMENT_RANGE``."""
    stripped = text.strip()
    if stripped[-1:] in ("Z", "z"):  # fromisoformat takes Z, not z
        stripped = stripped[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        raise InputError(
            f"{option} {text!r}: expected an ISO date or date-time, e.g. 2026-11-05 or "
            "2026-11-05T06:00:00Z"
        ) from None
    try:
        return as_utc(moment)
    except OverflowError:  # 0001-01-01T00:00+05:00 is in year 0 in UTC
        raise InputError(
            f"{option} {text!r}: out of range: moments from {MOMENT_RANGE} are supported"
        ) from None


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
