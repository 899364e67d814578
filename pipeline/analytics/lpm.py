"""Longest-prefix-match engine: build once from a deck, rate millions of numbers in numpy.

How it works (vectorised: no Python loop per number, nor per prefix on the hot path):

* Keys. A digit string is read as a fixed-width integer: its first ``KEY_DIGITS`` (19)
  digits, right-padded with zeros (``"4420"`` -> ``4420000000000000000``), plus its length.
  A prefix ``p`` of length ``L`` covers the key range ``[p·10^(19-L), (p+1)·10^(19-L))``;
  the ranges of two prefixes are nested or disjoint. A number longer than 19 digits is
  matched on its first 19 (prefixes have at most 19 digits, so that is exact).
* Elementary intervals. The range ends cut the key space into disjoint intervals, each
  labelled with the longest prefix covering it.
* Lookup tables. Instead of a binary search per number (about 18 dependent, cache-missing
  reads), a first table is indexed by the first ``d`` digits of the key; a slot holds its
  label or, when a longer prefix cuts it, points to a child block indexed by the next digits,
  and so on (a multibit trie over the intervals). Each level is one numpy gather over the
  numbers not yet resolved; most resolve at the first or second level.
* Corrections. A number shorter than its matched prefix (``"44"`` against prefix ``"4420"``)
  and a prefix with no version valid at the call's time fall back to the next shorter prefix
  of the deck (``parent``): a few vectorised passes over the few numbers concerned.
* Versions. A deck row may carry ``valid_from``/``valid_to`` (valid on ``[from, to)``; null
  ``valid_to`` = open-ended). Per prefix the versions become disjoint segments (overlaps are
  resolved as ``lpm_rate`` does in SQL, see ``_resolve_overlaps``); a call at time ``t``
  takes the segment covering ``t`` - the rows ``voice_rate_at(t)`` returns - so one engine
  rates calls across any number of price changes.
* Blocks. ``rate`` works in cache-sized blocks spread over threads: numpy and polars release
  the GIL, and small temporaries avoid the page faults that dominate on 10M-element arrays.

Money is integers: prices in units of 1e-8 (``int64``), ``price_units × billed`` divided by
``60·10^(8-decimals)`` with half-up rounding (half away from zero for a negative price).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import numpy as np
import polars as pl
import pyarrow as pa

from pipeline.analytics.numbers import (
    KEY_DIGITS,
    POW10_U64,
    ParsedNumbers,
    parse_numbers,
    run_blocks,
)
from pipeline.errors import InputError, RatedeckError

KEY_END = np.uint64(10**KEY_DIGITS)
PRICE_SCALE = 8  # prices are DECIMAL(18, 8): integer units of 1e-8
PRICE_DTYPE = pl.Decimal(18, PRICE_SCALE)
TEXT_DTYPE = pl.Categorical  # matched_prefix, destination (and tech_prefix in lookup.py)
NO_MATCH = -1
_CHILD = -2  # table entries <= -2 point to a child block: child = _CHILD - entry
_T_MIN = np.iinfo(np.int64).min  # valid_from null: since always
_T_MAX = np.iinfo(np.int64).max  # valid_to null: open-ended
_INT64_HEADROOM = 2**62  # |price_units × billed| below this leaves room for the rounding

DECK_COLUMNS = ("prefix", "destination", "price", "initial_seconds", "increment_seconds")
RATE_COLUMNS = ("matched_prefix", "destination", "price", "billed_seconds", "cost")


class DeckError(RatedeckError, ValueError):
    """A deck the engine cannot use (bad prefix, bad increments, wrong column type)."""


class CostOverflowError(InputError):
    """A call whose cost does not fit DECIMAL(18, decimals) (absurd duration or price)."""


def epoch_us(moment: datetime) -> int:
    """A datetime (naive = UTC) as integer microseconds since the epoch."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def epoch_us_series(values: pl.Series) -> pl.Series:
    """Datetime or Date (naive = UTC) -> Int64 microseconds since the epoch; nulls kept."""
    if values.dtype == pl.Date:
        values = values.cast(pl.Datetime("us"))
    if not isinstance(values.dtype, pl.Datetime):
        raise DeckError(f"{values.name}: expected a datetime column, got {values.dtype}")
    if values.dtype.time_zone is not None:
        values = values.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    return values.dt.cast_time_unit("us").cast(pl.Int64)


def _price_units(price: pl.Series) -> np.ndarray:
    if not isinstance(price.dtype, pl.Decimal) or price.dtype.scale > PRICE_SCALE:
        raise DeckError(f"price: expected Decimal with <= {PRICE_SCALE} places, got {price.dtype}")
    if price.null_count():
        raise DeckError("price: null price in the deck")
    units = price.cast(pl.Decimal(38, PRICE_SCALE)).to_physical()  # exact: the scale only grows
    if len(units) and cast(int, units.abs().max()) >= 2**63:  # an integer column's max
        raise DeckError("price: out of range")
    return units.cast(pl.Int64).to_numpy()


def _longest_member(
    queries: np.ndarray,
    shorter_than: np.ndarray | None,
    by_length: dict[int, tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    """For each key, the id of the longest deck prefix it starts with (``-1`` if none).

    ``by_length`` maps a length to (sorted prefix values of that length, their ids);
    ``shorter_than`` optionally caps the length per key (used to find parents).
    """
    result = np.full(len(queries), NO_MATCH, dtype=np.int64)
    for length in sorted(by_length, reverse=True):
        values, ids = by_length[length]
        todo = result == NO_MATCH
        if shorter_than is not None:
            todo &= shorter_than > length
        if not todo.any():
            continue
        head = queries[todo] // POW10_U64[KEY_DIGITS - length]
        pos = np.minimum(np.searchsorted(values, head), len(values) - 1)
        result[todo] = np.where(values[pos] == head, ids[pos], NO_MATCH)
    return result


@dataclass(frozen=True)
class _Trie:
    """A multibit trie over the elementary intervals.

    ``tables[0]`` is indexed by the first digits of the key. An entry ``>= -1`` is a label
    (prefix id, ``-1`` none); an entry ``e <= -2`` sends the key to child block
    ``c = -2 - e`` of the next level, where the key lands at
    ``key // units[level] + offsets[level][c]`` (the block's position minus its start).
    """

    tables: list[np.ndarray]  # int32
    units: list[np.uint64]  # 10**(digits left after the level)
    offsets: list[np.ndarray]  # int64 per child block; offsets[0] is unused

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Label (prefix id or -1, int64) of the elementary interval holding each key.

        (Indices are int64 throughout: numpy converts any other index type first.)
        """
        entry = np.take(self.tables[0], (keys // self.units[0]).view(np.int64))
        pending = np.flatnonzero(entry <= _CHILD)
        for level in range(1, len(self.tables)):
            if not pending.size:
                break
            position = (keys[pending] // self.units[level]).view(np.int64)
            child = (_CHILD - entry[pending]).astype(np.int64)
            position += np.take(self.offsets[level], child)
            found = np.take(self.tables[level], position)
            entry[pending] = found
            pending = pending[found <= _CHILD]
        return entry.astype(np.int64)


def _build_trie(
    bounds: np.ndarray, labels: np.ndarray, first: int, stride: int, depth: int
) -> _Trie:
    """Tables over the intervals ``[bounds[k], bounds[k+1])`` labelled ``labels[k]``."""
    ends = np.append(bounds[1:], KEY_END)
    one = np.uint64(1)
    tables, units, offsets = [], [], [np.zeros(0, np.int64)]
    consumed, step, slot_starts = 0, first, None
    while True:
        consumed += step
        unit = POW10_U64[KEY_DIGITS - consumed]
        if slot_starts is None:  # level 0 covers every slot: fill it run by run
            first_slot = (bounds + unit - one) // unit
            last_slot = (ends + unit - one) // unit
            owner = np.repeat(np.arange(len(bounds)), (last_slot - first_slot).astype(np.int64))
            # a slot is split when an interval boundary falls strictly inside it
            split = np.unique(bounds[(bounds % unit) != 0] // unit).astype(np.int64)
            split_starts = split.astype(np.uint64) * unit
        else:
            owner = np.searchsorted(bounds, slot_starts, side="right") - 1
            split = np.flatnonzero(ends[owner] < slot_starts + unit)
            split_starts = slot_starts[split]
        table = labels[owner].astype(np.int32)
        table[split] = _CHILD - np.arange(len(split), dtype=np.int32)
        tables.append(table)
        units.append(unit)
        if not len(split):
            return _Trie(tables, units, offsets)
        step = min(stride, depth - consumed)  # a split slot: some prefix is longer still
        child_unit = POW10_U64[KEY_DIGITS - consumed - step]
        size = 10**step
        block_start = (split_starts // child_unit).astype(np.int64)
        offsets.append(np.arange(len(split), dtype=np.int64) * size - block_start)
        slot_starts = (
            split_starts[:, None] + np.arange(size, dtype=np.uint64)[None, :] * child_unit
        ).ravel()


def _with_nulls(
    values: np.ndarray, bitmap: pa.Buffer | None, arrow_type: pa.DataType, name: str
) -> pl.Series:
    """A polars Series over numpy values with an Arrow validity bitmap (no copy, no ``set``)."""
    array = pa.Array.from_buffers(arrow_type, len(values), [bitmap, pa.py_buffer(values)])
    return pl.Series(name, array)


def decimal_series(name: str, units: np.ndarray, scale: int, valid: np.ndarray) -> pl.Series:
    """int64 units of 10^-scale -> polars ``Decimal(18, scale)``: no float, no string (an
    Arrow decimal64 array over the integers)."""
    bitmap = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return _with_nulls(
        np.ascontiguousarray(units, dtype=np.int64), bitmap, pa.decimal64(18, scale), name
    )


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
    """price per minute × billed / 60, in units of 10^-decimals, rounded half-up once.

    ``top_price`` (largest |price_units|) and ``negative`` (any price < 0) may be passed
    when known, to spare a pass over the data.
    """
    if not 0 <= decimals <= PRICE_SCALE:
        raise ValueError(f"cost decimals must be 0..{PRICE_SCALE}, got {decimals}")
    divisor = 60 * 10 ** (PRICE_SCALE - decimals)  # always even: half = divisor // 2
    if top_price is None:
        top_price = int(np.abs(price_units).max()) if len(price_units) else 0
    top_billed = int(billed.max()) if len(billed) else 0
    if top_price * top_billed >= _INT64_HEADROOM:  # beyond int64: Python ints, still exact
        return _cost_units_bigint(price_units, billed, divisor, decimals)
    numerator: np.ndarray = price_units * billed
    half = np.int64(divisor // 2)
    if negative is None:
        negative = bool(len(price_units) and price_units.min() < 0)
    if negative:  # half away from zero, like the SQL macro
        magnitude = (np.abs(numerator) + half) // np.int64(divisor)
        rounded: np.ndarray = np.where(numerator < 0, -magnitude, magnitude)
        return rounded
    numerator += half
    numerator //= np.int64(divisor)
    return numerator


def _cost_units_bigint(
    price_units: np.ndarray, billed: np.ndarray, divisor: int, decimals: int
) -> np.ndarray:
    out = []
    for price, seconds in zip(price_units.tolist(), billed.tolist(), strict=True):
        numerator = price * seconds
        magnitude = (2 * abs(numerator) + divisor) // (2 * divisor)
        if magnitude >= 10**18:  # DECIMAL(18, decimals) holds 18 digits
            raise CostOverflowError(
                f"a call of {seconds} billed seconds at {Decimal(price).scaleb(-PRICE_SCALE)} "
                f"per minute costs more than DECIMAL(18, {decimals}) can hold"
            )
        out.append(-magnitude if numerator < 0 else magnitude)
    return np.array(out, dtype=np.int64)


class LpmEngine:
    """Longest-prefix match over one deck (one tech prefix), optionally with its history.

    ``deck`` columns: ``prefix`` (digits, text), ``destination``, ``price`` (Decimal per
    minute, at most 8 places), ``initial_seconds``, ``increment_seconds``; optionally
    ``valid_from``/``valid_to`` (datetime; a row is valid on ``[valid_from, valid_to)``,
    null = unbounded). Other columns are ignored.

    ``first_digits``/``stride``: trie shape (digits indexed by the first table, then per
    level); the defaults suit decks from ten to a few hundred thousand prefixes.
    """

    def __init__(self, deck: pl.DataFrame, *, first_digits: int | None = None, stride: int = 2):
        missing = [c for c in DECK_COLUMNS if c not in deck.columns]
        if missing:
            raise DeckError(f"deck lacks column(s): {', '.join(missing)}")
        self.deck = deck
        # per deck row, plus a trailing sentinel row for "no match" (index -1)
        self._price_units = np.append(_price_units(deck["price"]), 0)
        self._initial = np.append(deck["initial_seconds"].cast(pl.Int64).to_numpy(), 0)
        self._increment = np.append(deck["increment_seconds"].cast(pl.Int64).to_numpy(), 1)
        if len(deck) and (self._initial.min() < 0 or self._increment.min() < 1):
            bad = deck.filter((pl.col("initial_seconds") < 0) | (pl.col("increment_seconds") < 1))
            raise DeckError(f"prefix {bad['prefix'][0]}: increments must be a >= 0 and b >= 1")
        self._has_negative_price = bool(self._price_units.min() < 0)
        self._top_price = int(np.abs(self._price_units).max())
        # text columns of the output, plus a trailing all-null row for "no match"
        # output columns per deck row, plus a trailing all-null row for "no match". Text is
        # Categorical: gathering 10M of them costs a third of gathering strings
        self._text = pl.concat(
            [
                deck.select(
                    pl.col("prefix").cast(pl.String).alias("matched_prefix"),
                    pl.col("destination").cast(pl.String),
                    pl.col("price").cast(PRICE_DTYPE),
                ),
                pl.DataFrame(
                    {"matched_prefix": [None], "destination": [None], "price": [None]},
                    schema={
                        "matched_prefix": pl.String,
                        "destination": pl.String,
                        "price": PRICE_DTYPE,
                    },
                ),
            ],
            rechunk=True,
        ).with_columns(pl.col("matched_prefix", "destination").cast(TEXT_DTYPE))
        self._index_dtype = np.uint32 if len(deck) < 2**32 - 1 else np.uint64
        self._build_prefixes(deck["prefix"])
        self._build_segments(deck)
        depth = self._max_prefix_length = int(self._prefix_lengths.max())
        if first_digits is None:  # ~40 slots per prefix, at most 10**7 (a 40 MB table)
            first_digits = min(7, len(str(40 * max(1, len(self.prefixes)))))
        first_digits = max(1, min(first_digits, max(depth, 1)))
        self._trie = _build_trie(self._bounds, self._labels, first_digits, stride, depth)

    # -- build ------------------------------------------------------------------------------
    def _build_prefixes(self, prefix_column: pl.Series) -> None:
        prefix = prefix_column.cast(pl.String)
        digits_only = prefix.str.contains(r"^[0-9]*$").fill_null(False)
        if not digits_only.all():
            raise DeckError(f"bad prefix {prefix.filter(~digits_only)[0]!r}: digits only")
        if len(prefix) and cast(int, prefix.str.len_bytes().max()) > KEY_DIGITS:
            raise DeckError(f"prefix longer than {KEY_DIGITS} digits")
        distinct = prefix.unique().sort()
        self.prefixes: list[str] = distinct.to_list()
        n = len(distinct)
        self._row_pid = (
            pl.DataFrame({"prefix": prefix})
            .join(
                pl.DataFrame({"prefix": distinct, "pid": np.arange(n, dtype=np.int64)}),
                on="prefix",
                how="left",
                maintain_order="left",
            )["pid"]
            .to_numpy()
        )
        lengths = distinct.str.len_bytes().to_numpy().astype(np.int64)
        values = distinct.cast(pl.UInt64, strict=False).fill_null(0).to_numpy()  # "" -> 0
        lo = values * POW10_U64[KEY_DIGITS - lengths]
        hi = (values + np.uint64(1)) * POW10_U64[KEY_DIGITS - lengths]
        by_length: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for length in np.unique(lengths):
            ids = np.flatnonzero(lengths == length)
            order = np.argsort(values[ids], kind="stable")
            by_length[int(length)] = (values[ids][order], ids[order])
        # trailing sentinel for pid -1: length 0 (never too long), no parent
        self._prefix_lengths = np.append(lengths, 0)
        self._parent = np.append(_longest_member(lo, lengths, by_length), NO_MATCH)
        bounds = np.unique(np.concatenate([np.zeros(1, np.uint64), lo, hi]))
        self._bounds = bounds[bounds < KEY_END]
        self._labels = _longest_member(self._bounds, None, by_length)

    def _build_segments(self, deck: pl.DataFrame) -> None:
        n = len(deck)
        start = np.full(n, _T_MIN, np.int64)
        end = np.full(n, _T_MAX, np.int64)
        if "valid_from" in deck.columns:
            start = epoch_us_series(deck["valid_from"]).fill_null(_T_MIN).to_numpy()
        if "valid_to" in deck.columns:
            end = epoch_us_series(deck["valid_to"]).fill_null(_T_MAX).to_numpy()
        rows = np.flatnonzero(start < end)  # an empty interval (withdrawn version) never applies
        pid, start, end = self._row_pid[rows], start[rows], end[rows]
        order = np.lexsort((end, start, pid))
        rows, pid, start, end = rows[order], pid[order], start[order], end[order]
        # sorted by start, the first overlap (if any) is between neighbours
        overlap = (pid[1:] == pid[:-1]) & (start[1:] < end[:-1])
        if overlap.any():
            rows, pid, start, end = self._resolve_overlaps(rows, pid, start, end, overlap)
        n_prefixes = len(self.prefixes)
        self._seg_row = np.append(rows, NO_MATCH)  # sentinel segment for "none"
        self._seg_pid = np.append(pid, NO_MATCH)
        self._seg_first = np.append(np.searchsorted(pid, np.arange(n_prefixes)), len(rows))
        self._seg_count = np.append(np.bincount(pid, minlength=n_prefixes), 0)
        # a prefix whose versions are all empty has no segment: matches fall to its parent
        finite = np.unique(np.concatenate([start[start != _T_MIN], end[end != _T_MAX]]))
        self._time_bounds = finite
        self._timeless = finite.size == 0 and bool((self._seg_count <= 1).all())
        self._seg_start_rank = np.append(np.searchsorted(finite, start, side="right"), 0)
        end_rank = np.where(end == _T_MAX, len(finite) + 1, np.searchsorted(finite, end, "right"))
        self._seg_end_rank = np.append(end_rank, 0)
        multi = np.flatnonzero(self._seg_count[pid] > 1)
        self._multi_stride = np.int64(len(finite) + 2)
        self._multi_keys = pid[multi] * self._multi_stride + self._seg_start_rank[multi]
        self._multi_index = multi
        # one version per prefix (the common case): prefix id -> deck row, sentinel -> -1
        self._pid_row = np.where(self._seg_count == 1, self._seg_row[self._seg_first], NO_MATCH)
        sentinel = len(self._seg_row) - 1
        self._seg_any = np.where(self._seg_count > 0, self._seg_first, sentinel)

    def _resolve_overlaps(
        self,
        rows: np.ndarray,
        pid: np.ndarray,
        start: np.ndarray,
        end: np.ndarray,
        overlap: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Disjoint segments for the prefixes whose versions overlap (an upstream data error).

        At each moment the valid version with the latest ``valid_from`` wins; ties go to the
        later ``valid_to`` (open-ended first), then the higher price, the larger increments,
        and the destination first in sort order - the order ``lpm_rate`` uses in SQL.
        """
        clashing = np.unique(pid[1:][overlap])
        keep = ~np.isin(pid, clashing)
        parts = [(rows[keep], pid[keep], start[keep], end[keep])]
        destinations = self.deck["destination"].cast(pl.String).to_list()

        def rank(i: int) -> tuple[Any, ...]:
            r = int(rows[i])
            return (
                start[i],
                end[i],
                self._price_units[r],
                self._initial[r],
                self._increment[r],
                _Descending(destinations[r]),
            )

        for p in clashing:
            versions = np.flatnonzero(pid == p)
            cuts = np.unique(np.concatenate([start[versions], end[versions]]))
            pieces: list[list[int]] = []  # [row, start, end]
            for lo, hi in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
                live = [i for i in versions.tolist() if start[i] <= lo < end[i]]
                if not live:
                    continue
                winner = int(rows[max(live, key=rank)])
                if pieces and pieces[-1][0] == winner and pieces[-1][2] == lo:
                    pieces[-1][2] = hi
                else:
                    pieces.append([winner, lo, hi])
            piece = np.array(pieces, dtype=np.int64).reshape(-1, 3)
            parts.append((piece[:, 0], np.full(len(piece), p), piece[:, 1], piece[:, 2]))
        rows, pid, start, end = (np.concatenate(column) for column in zip(*parts, strict=True))
        order = np.lexsort((start, pid))
        return rows[order], pid[order], start[order], end[order]

    # -- match ------------------------------------------------------------------------------
    @property
    def has_history(self) -> bool:
        """True when matching depends on the call's time."""
        return not self._timeless

    def match(
        self, numbers: ParsedNumbers, at: np.ndarray | datetime | int | None = None
    ) -> np.ndarray:
        """Deck row (index into ``deck``; ``-1`` unmatched) of each number's longest prefix.

        ``at``: one moment for all numbers, or int64 epoch microseconds per number; ``None``
        means now. Ignored by a deck without validity columns. Bad numbers are unmatched.
        """
        ranks = self._time_ranks(at, len(numbers))
        rows = self._match_keys(numbers.keys, numbers.lengths, ranks)
        rows[numbers.bad] = NO_MATCH
        return rows

    def _match_keys(
        self, keys: np.ndarray, lengths: np.ndarray, ranks: np.ndarray | None
    ) -> np.ndarray:
        if not len(self.prefixes) or not len(keys):
            return np.full(len(keys), NO_MATCH, np.int64)
        pid = self._trie.lookup(keys)
        if ranks is None:  # one version per prefix: straight to its row
            rows: np.ndarray = self._pid_row[pid]
            if lengths.min() < self._max_prefix_length:  # some number may be too short
                too_long = np.flatnonzero(self._prefix_lengths[pid] > lengths)
                if too_long.size:
                    rows[too_long] = self._walk_parents(pid[too_long], lengths[too_long], None)
            return rows
        return self._walk_parents(pid, lengths, ranks)

    def _walk_parents(
        self, pid: np.ndarray, lengths: np.ndarray, ranks: np.ndarray | None
    ) -> np.ndarray:
        """Row per number, moving up to shorter prefixes until one is usable.

        Usable: no longer than the number itself and, with history, holding a version valid
        at the call's time. Each pass handles every number still pending at once.
        """
        pid = pid.astype(np.int64)
        rows = np.full(len(pid), NO_MATCH, np.int64)
        pending = np.flatnonzero(pid >= 0)
        while pending.size:
            p = pid[pending]
            seg, ok = self._segment_at(p, None if ranks is None else ranks[pending])
            ok &= self._prefix_lengths[p] <= lengths[pending]
            rows[pending[ok]] = self._seg_row[seg[ok]]
            pending = pending[~ok]
            parent = self._parent[pid[pending]]
            pid[pending] = parent
            pending = pending[parent >= 0]
        return rows

    def _time_ranks(self, at: np.ndarray | datetime | int | None, n: int) -> np.ndarray | None:
        """Per number, how many version boundaries lie at or before its time (None: no history)."""
        if self._timeless:
            return None
        if at is None:
            at = datetime.now(UTC)
        if isinstance(at, datetime):
            at = epoch_us(at)
        at = np.broadcast_to(np.asarray(at, dtype=np.int64), (n,))
        ranks: np.ndarray = np.searchsorted(self._time_bounds, at, side="right")
        return ranks

    def _segment_at(
        self, pid: np.ndarray, ranks: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """For prefix ids (>= 0), the segment valid at each rank, and whether there is one.

        ``_seg_any`` is the prefix's only segment, its first, or the sentinel (which no rank
        falls in) when it has none; only prefixes with several segments need a search.
        """
        seg = np.take(self._seg_any, pid)
        if ranks is None:
            return seg, seg != len(self._seg_row) - 1
        multi = np.flatnonzero(np.take(self._seg_count, pid) > 1)
        if multi.size:  # the latest segment of the prefix starting at or before the time
            p = pid[multi]
            at = np.searchsorted(self._multi_keys, p * self._multi_stride + ranks[multi], "right")
            found = np.take(self._multi_index, np.maximum(at - 1, 0))
            mine = (at > 0) & (np.take(self._seg_pid, found) == p)
            seg[multi] = np.where(mine, found, len(self._seg_row) - 1)
        ok = np.take(self._seg_start_rank, seg) <= ranks
        ok &= ranks < np.take(self._seg_end_rank, seg)
        return seg, ok

    # -- rate -------------------------------------------------------------------------------
    def billed_and_cost(
        self, rows: np.ndarray, durations: np.ndarray, decimals: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Billed seconds and cost (int64 units of 10^-decimals) per matched row.

        Entries for unmatched numbers (row ``-1``) are meaningless: mask them with
        ``rows >= 0``.
        """
        billed = billed_seconds(
            np.asarray(durations, dtype=np.int64),
            np.take(self._initial, rows),
            np.take(self._increment, rows),
        )
        cost = cost_units(
            np.take(self._price_units, rows),
            billed,
            decimals,
            top_price=self._top_price,
            negative=self._has_negative_price,
        )
        return billed, cost

    def rate(
        self,
        numbers: ParsedNumbers | pl.Series,
        durations: np.ndarray,
        *,
        at: np.ndarray | datetime | int | None = None,
        decimals: int = 6,
        block: int = 1 << 16,
        threads: int | None = None,
    ) -> pl.DataFrame:
        """``matched_prefix, destination, price, billed_seconds, cost`` per number.

        ``numbers``: from ``parse_numbers`` (or raw text, parsed here); bad numbers come out
        unmatched. ``durations``: integer seconds >= 0. ``at`` as in ``match``. Unmatched
        numbers get nulls in every column. ``matched_prefix``/``destination`` are Categorical,
        ``price`` Decimal(18, 8), ``billed_seconds`` Int64, ``cost`` Decimal(18, decimals).
        """
        if not isinstance(numbers, ParsedNumbers):
            numbers = parse_numbers(numbers)
        n = len(numbers)
        durations = np.asarray(durations, dtype=np.int64)
        if len(durations) != n:
            raise ValueError("numbers and durations differ in length")
        cost_units(np.zeros(0, np.int64), np.zeros(0, np.int64), decimals)  # checks decimals
        times = at if isinstance(at, np.ndarray) and np.ndim(at) == 1 else None  # per call
        per_call = times is not None
        if times is not None and len(times) != n:
            raise ValueError("numbers and times differ in length")
        scalar_ranks = None if per_call else self._time_ranks(at, 1)
        bad = numbers.fixed_index[numbers.fixed_problems.is_not_null().to_numpy()]
        unmatched = len(self.deck)  # index of the trailing null row of ``self._text``
        index = np.empty(n, self._index_dtype)
        billed = np.empty(n, np.int64)
        cost = np.empty(n, np.int64)

        def rate_block(start: int) -> None:
            stop = min(start + block, n)
            if times is not None:
                ranks = self._time_ranks(times[start:stop], stop - start)
            elif scalar_ranks is not None:
                ranks = np.broadcast_to(scalar_ranks, (stop - start,))
            else:
                ranks = None
            rows = self._match_keys(numbers.keys[start:stop], numbers.lengths[start:stop], ranks)
            block_billed, block_cost = self.billed_and_cost(rows, durations[start:stop], decimals)
            index[start:stop] = np.where(rows < 0, unmatched, rows) if rows.min() < 0 else rows
            billed[start:stop] = block_billed
            cost[start:stop] = block_cost

        run_blocks(rate_block, n, block, threads)
        index[bad] = unmatched
        return self._frame(index, billed, cost, decimals)

    def _frame(
        self, index: np.ndarray, billed: np.ndarray, cost: np.ndarray, decimals: int
    ) -> pl.DataFrame:
        """The rate columns. One gather per text column over all numbers: polars' per-call
        overhead makes block-wise gathers several times slower."""
        matched = index != len(self.deck)
        bitmap = None if matched.all() else pa.py_buffer(np.packbits(matched, bitorder="little"))
        return self._text[index].with_columns(
            _with_nulls(billed, bitmap, pa.int64(), "billed_seconds"),
            _with_nulls(cost, bitmap, pa.decimal64(18, decimals), "cost"),
        )

    def rate_rows(self, rows: np.ndarray, durations: np.ndarray, decimals: int) -> pl.DataFrame:
        """The rate columns for rows found by ``match`` (small inputs, e.g. one lookup)."""
        billed, cost = self.billed_and_cost(rows, durations, decimals)
        return self._frame(np.where(rows < 0, len(self.deck), rows), billed, cost, decimals)


class _Descending:
    """Inverts ordering inside a ``max()`` key (so the smallest destination wins)."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __lt__(self, other: _Descending) -> bool:
        return self.value > other.value

    def __gt__(self, other: _Descending) -> bool:
        return self.value < other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.value == other.value

    __hash__ = None  # type: ignore[assignment]  # unhashable, as __eq__ compares values
