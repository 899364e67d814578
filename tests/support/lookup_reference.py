"""Reference implementations (plain Python, Decimal), deck builders and hypothesis strategies
for the LPM tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext

import polars as pl
from hypothesis import strategies as st

T0 = datetime(2026, 1, 1, tzinfo=UTC)
INCREMENTS = [(1, 1), (60, 60), (30, 6), (60, 1)]


@dataclass(frozen=True)
class Version:
    prefix: str
    destination: str
    price: Decimal
    initial: int
    increment: int
    valid_from: datetime | None = None
    valid_to: datetime | None = None


def deck_frame(versions: list[Version]) -> pl.DataFrame:
    """The engine's input frame (the columns ``lpm_versions`` returns)."""
    return pl.DataFrame(
        {
            "prefix": [v.prefix for v in versions],
            "destination": [v.destination for v in versions],
            "price": pl.Series([v.price for v in versions], dtype=pl.Decimal(18, 8)),
            "initial_seconds": [v.initial for v in versions],
            "increment_seconds": [v.increment for v in versions],
            "valid_from": pl.Series(
                [v.valid_from for v in versions], dtype=pl.Datetime("us", "UTC")
            ),
            "valid_to": pl.Series([v.valid_to for v in versions], dtype=pl.Datetime("us", "UTC")),
        },
    )


class _Last:
    """Sorts after every datetime: an open-ended valid_to."""

    def __lt__(self, other):
        return False

    def __gt__(self, other):
        return True


def reference_match(versions: list[Version], digits: str, at: datetime) -> Version | None:
    """Brute force: every version valid at ``at`` whose prefix starts the number; longest wins,
    then the documented tie-breaks (latest valid_from, later valid_to, higher price, larger
    increments, first destination)."""
    live = [
        v
        for v in versions
        if digits.startswith(v.prefix)
        and (v.valid_from is None or v.valid_from <= at)
        and (v.valid_to is None or at < v.valid_to)
    ]
    if not live:
        return None
    top = max(
        (
            len(v.prefix),
            v.valid_from or datetime.min.replace(tzinfo=UTC),
            _Last() if v.valid_to is None else v.valid_to,
            v.price,
            v.initial,
            v.increment,
        )
        for v in live
    )
    # compare keys without the _Last objects' missing __eq__: filter step by step
    best = [v for v in live if len(v.prefix) == top[0]]
    best = [v for v in best if (v.valid_from or datetime.min.replace(tzinfo=UTC)) == top[1]]
    open_ended = [v for v in best if v.valid_to is None]
    if open_ended:
        best = open_ended
    else:
        last = max(v.valid_to for v in best)
        best = [v for v in best if v.valid_to == last]
    best = [
        v
        for v in best
        if (v.price, v.initial, v.increment) == max((b.price, b.initial, b.increment) for b in best)
    ]
    return min(best, key=lambda v: v.destination)


def reference_billed(seconds: int, initial: int, increment: int) -> int:
    if seconds == 0:
        return 0
    if seconds <= initial:
        return initial
    steps = -(-(seconds - initial) // increment)
    return initial + steps * increment


def reference_cost(price: Decimal, billed: int, decimals: int) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 60
        return (price * billed / 60).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)


# -- hypothesis strategies ----------------------------------------------------------------------
# few digits, so prefixes nest and numbers share them
prefix_text = st.text(alphabet="0149", min_size=0, max_size=6)
number_text = st.one_of(
    st.text(alphabet="0149", min_size=0, max_size=9),
    st.text(alphabet="0123456789", min_size=18, max_size=24),  # longer than any key
)
prices = st.integers(0, 10**11).map(lambda units: Decimal(units).scaleb(-8))
increments = st.one_of(
    st.sampled_from(INCREMENTS), st.tuples(st.integers(0, 90), st.integers(1, 90))
)
moments = st.integers(0, 6).map(lambda day: T0 + timedelta(days=day))


@st.composite
def versions(draw, *, history: bool = True, max_size: int = 12) -> list[Version]:
    out = []
    for prefix in draw(st.lists(prefix_text, min_size=0, max_size=max_size)):
        for _ in range(draw(st.integers(1, 3)) if history else 1):
            a, b = draw(increments)
            start = draw(st.one_of(st.none(), moments)) if history else None
            end = draw(st.one_of(st.none(), moments)) if history else None
            out.append(
                Version(prefix, draw(st.sampled_from("ABC")), draw(prices), a, b, start, end)
            )
    return out
