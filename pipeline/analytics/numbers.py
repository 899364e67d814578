"""Phone numbers: normalising them and turning them into the keys the LPM engine matches.

Normalising (docs/analysts.md): whitespace, ``+``, ``-``, ``.`` and brackets
``()[]`` are removed, then one leading ``00`` (the international call prefix). What is left
must be ASCII digits: a number with letters, any other character, or no digits at all is
refused with an ``InputError`` naming it (``BadNumberError``).

Normalising lives in ``pipeline.ingest`` (``phone``: one number, ``number_columns``: a
column), re-exported here. Keys: a number is read as its first ``KEY_DIGITS`` (19) digits right-padded with zeros, an
unsigned 64-bit integer, plus its length (see ``_prefix_index.py`` for why).

``parse_numbers`` does both for millions of numbers at once. The common case (the text is
already plain digits) costs one polars string-to-integer cast per block; only numbers that
look different (a leading ``0`` or ``+``, a non-digit) go through the regex normaliser.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import polars as pl

# normalising lives in ingest (the lower layer: ingest must not import analytics): one number
# at a time in phone.py (pure Python), a column at a time in number_columns.py; re-exported
# here for their callers
from pipeline.ingest.number_columns import normalise_odd as _normalise_odd
from pipeline.ingest.phone import BadNumberError as BadNumberError
from pipeline.ingest.phone import normalise_number as normalise_number
from pipeline.ingest.phone import number_problem as number_problem

T = TypeVar("T")

KEY_DIGITS = 19  # 10**19 - 1 < 2**64: a 19-digit key fits an unsigned 64-bit integer
POW10_U64 = np.array([10**i for i in range(KEY_DIGITS + 1)], dtype=np.uint64)
_BLOCK = 1 << 17


@dataclass(frozen=True)
class ParsedNumbers:
    """Numbers ready for matching. ``keys``/``lengths`` are 0 where the number is bad."""

    raw: pl.Series
    keys: np.ndarray  # uint64
    lengths: np.ndarray  # int64 digits (may exceed 19)
    fixed_index: np.ndarray  # positions whose digits differ from ``raw`` (or are bad)
    fixed_digits: pl.Series  # their digits (null where bad)
    fixed_problems: pl.Series  # their reason (null where good)

    def __len__(self) -> int:
        return len(self.keys)

    def select(self, keep: np.ndarray) -> ParsedNumbers:
        """The numbers where the boolean mask ``keep`` is true, in order."""
        position = np.cumsum(keep) - 1
        fixed_keep = keep[self.fixed_index]
        return ParsedNumbers(
            self.raw.filter(pl.Series(keep)),
            self.keys[keep],
            self.lengths[keep],
            position[self.fixed_index[fixed_keep]],
            self.fixed_digits.filter(pl.Series(fixed_keep)),
            self.fixed_problems.filter(pl.Series(fixed_keep)),
        )

    @property
    def bad(self) -> np.ndarray:
        """Boolean mask of the numbers refused."""
        mask = np.zeros(len(self), dtype=bool)
        mask[self.fixed_index[self.fixed_problems.is_not_null().to_numpy()]] = True
        return mask

    @property
    def problems(self) -> pl.Series:
        """Reason per number (null when good)."""
        return _scatter(
            pl.Series("problem", [None] * len(self), pl.String),
            self.fixed_index,
            self.fixed_problems,
        )

    @property
    def digits(self) -> pl.Series:
        """Normalised digits per number (null when bad)."""
        base = self.raw.cast(pl.String).alias("digits")
        return _scatter(base, self.fixed_index, self.fixed_digits)


def _scatter(base: pl.Series, index: np.ndarray, values: pl.Series) -> pl.Series:
    if not len(index):
        return base
    return base.scatter(index, values)


def run_blocks(work: Callable[[int], T], n: int, block: int, threads: int | None) -> list[T]:
    """``work(start)`` for every block start in ``range(0, n, block)``, on a few threads
    (numpy and polars release the GIL); results in block order."""
    starts = range(0, n, block)
    threads = threads or min(2, os.cpu_count() or 1)
    if threads > 1 and len(starts) > 1:
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(work, starts))
    return [work(start) for start in starts]


def parse_numbers(
    raw: pl.Series | list[str | None], *, threads: int | None = None
) -> ParsedNumbers:
    """Normalise and key numbers in bulk (see module doc). Never raises for a bad number:
    ``bad``/``problems`` say which and why."""
    raw = raw if isinstance(raw, pl.Series) else pl.Series("number", raw, dtype=pl.String)
    text = raw if raw.dtype == pl.String else raw.cast(pl.String)
    n = len(text)
    keys = np.empty(n, np.uint64)
    lengths = np.empty(n, np.int64)

    def parse_block(start: int) -> tuple[np.ndarray, pl.Series, pl.Series] | None:
        block = text.slice(start, _BLOCK)
        stop = start + len(block)
        keys[start:stop], lengths[start:stop], odd, uncast = _plain_digit_keys(block)
        if not odd.size:
            return None
        odd_raw = block.gather(odd)
        digits, problems = _normalise_odd(odd_raw)
        # a leading single 0 leaves the digits as they were, and the fast key is right
        # unless the number is longer than the key (it was cut by value, not by digit)
        changed = np.flatnonzero(
            digits.ne_missing(odd_raw).to_numpy() | uncast | (lengths[start + odd] > KEY_DIGITS)
        )
        if not changed.size:
            return None
        digits, problems = digits.gather(changed), problems.gather(changed)
        at = start + odd[changed]
        keys[at], lengths[at] = digit_keys(digits)
        return at, digits, problems

    fixes = [f for f in run_blocks(parse_block, n, _BLOCK, threads) if f is not None]
    if fixes:
        index = np.concatenate([f[0] for f in fixes])
        digits = pl.concat([f[1] for f in fixes])
        problems = pl.concat([f[2] for f in fixes])
    else:
        index = np.zeros(0, np.int64)
        digits = pl.Series("digits", [], pl.String)
        problems = pl.Series("problem", [], pl.String)
    return ParsedNumbers(raw, keys, lengths, index, digits, problems)


def _plain_digit_keys(
    block: pl.Series,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Keys assuming every string is plain digits, the positions to look at again, and
    which of those did not cast at all.

    A string that casts to an integer is digits, or ``+`` and digits. When the value has
    fewer digits than the text, the text starts with ``0`` or ``+``, or did not cast: those
    are "odd" (a leading single ``0`` is fine, and its key here is already right).
    """
    lengths = block.str.len_bytes().to_numpy()
    parsed = block.cast(pl.UInt64, strict=False)
    if not parsed.null_count() and len(lengths) and lengths.max() <= KEY_DIGITS:
        # the common case, in four passes: digits only, 1 to 19 of them
        values = parsed.to_numpy()
        odd = np.flatnonzero(values < np.take(POW10_U64, lengths - 1))
        keys = values * np.take(POW10_U64, KEY_DIGITS - lengths)
        return keys, lengths, odd, np.zeros(len(odd), dtype=bool)
    if parsed.null_count():
        nulls = parsed.is_null().to_numpy()
        values = parsed.fill_null(0).to_numpy()
        lengths = np.where(nulls, 0, lengths).astype(np.int64)
    else:
        nulls, values = None, parsed.to_numpy()
        lengths = lengths.astype(np.int64)
    clipped = np.clip(lengths, 1, KEY_DIGITS + 1)
    odd = values < POW10_U64[clipped - 1]
    odd |= lengths > KEY_DIGITS + 1  # casts only with leading zeros (u64 has 20 digits)
    if nulls is not None:
        odd |= nulls
    keys = values * POW10_U64[KEY_DIGITS - np.minimum(clipped, KEY_DIGITS)]
    if lengths.max(initial=0) > KEY_DIGITS:  # only 20 digits cast: drop the last one
        keys = np.where(lengths > KEY_DIGITS, values // np.uint64(10), keys)
    odd = np.flatnonzero(odd)
    uncast = nulls[odd] if nulls is not None else np.zeros(len(odd), dtype=bool)
    return keys, lengths, odd, uncast


def digit_keys(digits: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Keys and lengths of digit-only strings (null or non-digit -> key 0, length 0)."""
    digits = digits.fill_null("")
    lengths = digits.str.len_bytes().to_numpy().astype(np.int64)
    head = digits.str.slice(0, KEY_DIGITS) if lengths.max(initial=0) > KEY_DIGITS else digits
    parsed = head.cast(pl.UInt64, strict=False)
    valid = parsed.is_not_null().to_numpy()
    values = parsed.fill_null(0).to_numpy()
    lengths = np.where(valid, lengths, 0)
    shift = KEY_DIGITS - np.minimum(lengths, KEY_DIGITS)
    return values * POW10_U64[shift], lengths
