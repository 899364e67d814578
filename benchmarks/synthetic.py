"""Synthetic data for benchmarks (and the tests that exercise them): canonical voice decks
(VOICE_RATE_SCHEMA) and exact Decimal columns built from integer units.

Deterministic for a seed; prices are exact Decimal(18, 8) built from integer units (never
through float).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl
import pyarrow as pa

from pipeline.ingest.frames import VOICE_RATE_SCHEMA

_DESTINATIONS = ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel")


def _prices(units: np.ndarray) -> pl.Expr:
    """Integer units of 1e-8 as exact Decimal(18, 8)."""
    text = pl.Series("units", units.astype(np.int64)).cast(pl.String).str.zfill(9)
    return pl.lit(
        (text.str.slice(0, text.str.len_chars() - 8) + "." + text.str.slice(-8)).cast(
            VOICE_RATE_SCHEMA["price"]
        )
    )


def voice_deck(
    rows: int, *, seed: int = 0, effective_at: datetime | None = None, currency: str | None = "USD"
) -> pl.DataFrame:
    """A deck of ``rows`` distinct prefixes (digits, some with leading zeros)."""
    rng = np.random.default_rng(seed)
    prefixes = rng.choice(np.arange(10_000, 10_000 + rows * 20), size=rows, replace=False)
    frame = pl.DataFrame(
        {
            "row_number": np.arange(1, rows + 1, dtype=np.int64),
            "prefix": [f"{'0' if p % 7 == 0 else ''}{p}" for p in prefixes.tolist()],
            "destination": [_DESTINATIONS[p % len(_DESTINATIONS)] for p in prefixes.tolist()],
            "initial_seconds": np.where(prefixes % 3 == 0, 60, 1).astype(np.int32),
            "increment_seconds": np.where(prefixes % 5 == 0, 60, 1).astype(np.int32),
        }
    ).with_columns(
        price=_prices(rng.integers(100_000, 50_000_000, size=rows)),
        effective_at=pl.lit(effective_at, dtype=VOICE_RATE_SCHEMA["effective_at"]),
        currency=pl.lit(currency, dtype=pl.String),
    )
    return frame.select(list(VOICE_RATE_SCHEMA)).cast(VOICE_RATE_SCHEMA)


def churn(deck: pl.DataFrame, fraction: float, *, seed: int) -> pl.DataFrame:
    """The next day's deck: ``fraction`` of the rows change price, and as many again are
    split between removed prefixes and new ones (new prefixes are unique to the seed)."""
    rng = np.random.default_rng(seed)
    n = deck.height
    changed = rng.random(n) < fraction
    removed = (rng.random(n) < fraction / 2) & ~changed
    bump = rng.integers(-2_000_000, 2_000_000, size=n)
    bump[bump == 0] = 1
    units = deck["price"].cast(pl.String).str.replace(".", "", literal=True).cast(pl.Int64)
    new_units = np.where(changed, np.maximum(units.to_numpy() + bump, 1), units.to_numpy())
    kept = deck.with_columns(price=_prices(new_units)).filter(~pl.Series(removed))
    added_count = int(removed.sum())
    if added_count:
        added = voice_deck(added_count, seed=seed + 1_000_003).with_columns(
            prefix=pl.lit(f"9{seed:06d}") + pl.col("prefix"),
            effective_at=pl.lit(None, dtype=VOICE_RATE_SCHEMA["effective_at"]),
        )
        kept = pl.concat([kept, added.cast(deck.schema)])
    return kept.with_columns(row_number=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))


def decimal_series(name: str, units: np.ndarray, scale: int, valid: np.ndarray) -> pl.Series:
    """int64 units of 10^-scale -> polars ``Decimal(18, scale)``: no float, no string (an
    Arrow decimal64 array over the integers)."""
    bitmap = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    values = pa.py_buffer(np.ascontiguousarray(units, dtype=np.int64))
    return pl.Series(
        name, pa.Array.from_buffers(pa.decimal64(18, scale), len(units), [bitmap, values])
    )
