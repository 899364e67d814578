"""The longest-prefix-match engine: build once from a deck, rate millions of numbers in numpy.

Vectorised: no Python loop per number, nor per prefix on the hot path. The prefix index
(``_prefix_index``) finds each number's longest prefix; ``_versions`` picks the version valid
at the call's time; ``_money`` bills and costs in integers.

* Corrections. A number shorter than its matched prefix (``"44"`` against prefix ``"4420"``)
  and a prefix with no version valid at the call's time fall back to the next shorter prefix
  of the deck (``parent``): a few vectorised passes over the few numbers concerned.
* Moments. Between two price changes of the deck, the row each prefix rates on (its own
  version, or its nearest shorter prefix's) is fixed: a table of it per moment, built once
  (``_rows_at_rank``), rates a block of calls in one gather. Only a block spanning many price
  changes walks each number up its prefixes at its own moment.
* Blocks. ``rate`` works in cache-sized blocks spread over threads: numpy and polars release
  the GIL, and small temporaries avoid the page faults that dominate on 10M-element arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import polars as pl
import pyarrow as pa

from pipeline.analytics._errors import CostOverflowError, DeckError
from pipeline.analytics._money import (
    PRICE_DTYPE,
    billed_seconds,
    cost_units,
    cost_units_or_overflow,
    price_units,
)
from pipeline.analytics._prefix_index import NO_MATCH, PrefixIndex
from pipeline.analytics._versions import Versions
from pipeline.analytics.numbers import ParsedNumbers, parse_numbers, run_blocks

_RANKS_KEPT = 64  # tables of _rows_at_rank kept (two int64 per prefix each)
_FEW_RANKS = 8  # a block of calls spanning fewer price changes is rated table by table
TEXT_DTYPE = pl.Categorical  # matched_prefix, destination (and tech_prefix in lookup.py)

DECK_COLUMNS = ("prefix", "destination", "price", "initial_seconds", "increment_seconds")
RATE_COLUMNS = ("matched_prefix", "destination", "price", "billed_seconds", "cost")


@dataclass(frozen=True)
class Rating:
    """What ``LpmEngine.rate_arrays`` found: the rate columns, and per number whether it
    matched, its billed seconds and cost (int64 units of 10^-decimals; meaningless where
    unmatched) and the deck row it was rated on, for totals and further columns without
    reading the rate columns back. ``overflow`` (asked for with ``keep_overflow``): the
    matched numbers whose cost does not fit DECIMAL(18, decimals), ``{position: reason}``;
    their ``cost`` (array and column) is meaningless."""

    frame: pl.DataFrame
    matched: np.ndarray  # bool
    billed: np.ndarray
    cost: np.ndarray
    index: np.ndarray  # deck row per number; len(deck) where unmatched
    deck: pl.DataFrame = field(repr=False)
    overflow: dict[int, str] = field(default_factory=dict)

    def deck_columns(self, names: list[str]) -> pl.DataFrame:
        """Columns of the deck row each number was rated on (its version: increments,
        currency, valid_from...); nulls where unmatched."""
        table = pl.concat([self.deck.select(names), self.deck.select(names).clear(1)])
        return table[_index_series(self.index)]


class _ArrowExport:
    """An Arrow array seen only through the Arrow PyCapsule interface: polars imports it
    through the C data interface, where a pyarrow object would first make it import
    ``pyarrow.compute`` (0.07 s, a tenth of `ratedeck cost`'s start-up) to coerce it."""

    def __init__(self, array: pa.Array):
        self._array = array

    def __arrow_c_array__(self, requested_schema: object = None) -> tuple[object, object]:
        exported: tuple[object, object] = self._array.__arrow_c_array__(requested_schema)
        return exported


def _index_series(index: np.ndarray) -> pl.Series:
    """Row numbers for a gather, handed over like the rate columns: polars converting a numpy
    array itself first imports ``numpy.ma`` (0.02 s of start-up) to rule out a masked array."""
    index = np.ascontiguousarray(index)  # the buffer is read as it lies in memory
    array = pa.Array.from_buffers(
        pa.from_numpy_dtype(index.dtype), len(index), [None, pa.py_buffer(index)]
    )
    return pl.Series("index", _ArrowExport(array))


def _with_nulls(
    values: np.ndarray, bitmap: pa.Buffer | None, arrow_type: pa.DataType, name: str
) -> pl.Series:
    """A polars Series over numpy values with an Arrow validity bitmap (no copy, no ``set``)."""
    array = pa.Array.from_buffers(arrow_type, len(values), [bitmap, pa.py_buffer(values)])
    return pl.Series(name, _ArrowExport(array)).alias(name)  # the capsule carries no name


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
        self._price_units = np.append(price_units(deck["price"]), 0)
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
        self._index = PrefixIndex(deck["prefix"], first_digits=first_digits, stride=stride)
        self.prefixes = self._index.prefixes
        self._versions = Versions(
            deck,
            self._index.row_pid,
            len(self.prefixes),
            price_units=self._price_units,
            initial=self._initial,
            increment=self._increment,
        )
        self._by_rank: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # see _rows_at_rank

    @property
    def text_table(self) -> pl.DataFrame:
        """What the rate columns ``matched_prefix, destination, price`` are gathered from: a
        row per deck row, then an all-null row (no match)."""
        return self._text

    # -- match ------------------------------------------------------------------------------
    @property
    def has_history(self) -> bool:
        """True when matching depends on the call's time."""
        return not self._versions.timeless

    def match(
        self, numbers: ParsedNumbers, at: np.ndarray | datetime | int | None = None
    ) -> np.ndarray:
        """Deck row (index into ``deck``; ``-1`` unmatched) of each number's longest prefix.

        ``at``: one moment for all numbers, or int64 epoch microseconds per number; ``None``
        means now. Ignored by a deck without validity columns. Bad numbers are unmatched.
        """
        ranks = self._versions.ranks(at, len(numbers))
        rows = self._match_keys(numbers.keys, numbers.lengths, ranks)
        rows[numbers.bad] = NO_MATCH
        return rows

    def _match_keys(
        self, keys: np.ndarray, lengths: np.ndarray, ranks: np.ndarray | None
    ) -> np.ndarray:
        if not len(self.prefixes) or not len(keys):
            return np.full(len(keys), NO_MATCH, np.int64)
        pid = self._index.lookup(keys)
        if ranks is None:  # one version per prefix: straight to its row
            rows: np.ndarray = self._versions.pid_row[pid]
            row_lengths = self._index.lengths[pid]
        else:
            lowest, highest = int(ranks.min()), int(ranks.max())
            if highest - lowest >= _FEW_RANKS:  # calls across many price changes: walk
                return self._walk_parents(pid, lengths, ranks)
            # calls between the same two price changes (the common case), or a few: a
            # table per stretch between changes (``_rows_at_rank``)
            rows, row_lengths = self._rows_in_stretches(pid, ranks, lowest, highest)
        if lengths.min() < self._index.max_length:  # some number may be too short
            too_long = np.flatnonzero(row_lengths > lengths)
            if too_long.size:
                rows[too_long] = self._walk_parents(
                    pid[too_long], lengths[too_long], None if ranks is None else ranks[too_long]
                )
        return rows

    def _rows_in_stretches(
        self, pid: np.ndarray, ranks: np.ndarray, lowest: int, highest: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows and their prefixes' lengths, from the table of each number's rank."""
        if lowest == highest:
            pid_row, pid_length = self._rows_at_rank(lowest)
            return pid_row[pid], pid_length[pid]
        rows = np.empty(len(pid), np.int64)
        row_lengths = np.empty(len(pid), np.int64)
        for rank in range(lowest, highest + 1):
            at = np.flatnonzero(ranks == rank)
            if at.size:
                pid_row, pid_length = self._rows_at_rank(rank)
                rows[at], row_lengths[at] = pid_row[pid[at]], pid_length[pid[at]]
        return rows, row_lengths

    def _rows_at_rank(self, rank: int) -> tuple[np.ndarray, np.ndarray]:
        """Per prefix id (and the sentinel -1): the deck row of the prefix, or of its nearest
        shorter one, with a version valid at ``rank``, and that prefix's length (numbers
        shorter than it walk up further). Kept per rank: a batch of calls meets a few."""
        held = self._by_rank.get(rank)
        if held is not None:
            return held
        pid = np.arange(len(self.prefixes), dtype=np.int64)
        any_length = np.full(len(pid), np.iinfo(np.int64).max)
        rows = self._walk_parents(pid, any_length, np.full(len(pid), rank, np.int64))
        lengths = np.where(rows >= 0, self._index.lengths[self._index.row_pid[rows]], 0)
        held = (np.append(rows, NO_MATCH), np.append(lengths, 0))
        if len(self._by_rank) >= _RANKS_KEPT:
            self._by_rank.clear()
        self._by_rank[rank] = held
        return held

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
            seg, ok = self._versions.segment_at(p, None if ranks is None else ranks[pending])
            ok &= self._index.lengths[p] <= lengths[pending]
            rows[pending[ok]] = self._versions.seg_row[seg[ok]]
            pending = pending[~ok]
            parent = self._index.parent[pid[pending]]
            pid[pending] = parent
            pending = pending[parent >= 0]
        return rows

    # -- rate -------------------------------------------------------------------------------
    def billed_and_cost(
        self, rows: np.ndarray, durations: np.ndarray, decimals: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Billed seconds and cost (int64 units of 10^-decimals) per matched row;
        ``CostOverflowError`` where a cost does not fit DECIMAL(18, decimals).

        Entries for unmatched numbers (row ``-1``) are meaningless: mask them with
        ``rows >= 0``.
        """
        billed, cost, overflow = self._billed_and_cost_or_overflow(rows, durations, decimals)
        if overflow:
            raise CostOverflowError(overflow[min(overflow)])
        return billed, cost

    def _billed_and_cost_or_overflow(
        self, rows: np.ndarray, durations: np.ndarray, decimals: int
    ) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
        """``billed_and_cost``, the costs beyond DECIMAL(18, decimals) set aside (see
        ``cost_units_or_overflow``) rather than raised."""
        billed = billed_seconds(
            np.asarray(durations, dtype=np.int64),
            np.take(self._initial, rows),
            np.take(self._increment, rows),
        )
        cost, overflow = cost_units_or_overflow(
            np.take(self._price_units, rows),
            billed,
            decimals,
            top_price=self._top_price,
            negative=self._has_negative_price,
        )
        return billed, cost, overflow

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
        """The rate columns of ``rate_arrays``: ``matched_prefix, destination, price,
        billed_seconds, cost`` per number."""
        rating = self.rate_arrays(
            numbers, durations, at=at, decimals=decimals, block=block, threads=threads
        )
        return rating.frame

    def rate_arrays(
        self,
        numbers: ParsedNumbers | pl.Series,
        durations: np.ndarray,
        *,
        at: np.ndarray | datetime | int | None = None,
        decimals: int = 6,
        block: int = 1 << 16,
        threads: int | None = None,
        text: pl.DataFrame | None = None,
        keep_overflow: bool = False,
    ) -> Rating:
        """``matched_prefix, destination, price, billed_seconds, cost`` per number (``frame``
        of the ``Rating``), with the arrays behind them.

        ``numbers``: from ``parse_numbers`` (or raw text, parsed here); bad numbers come out
        unmatched. ``durations``: integer seconds >= 0. ``at`` as in ``match``. Unmatched
        numbers get nulls in every column. ``matched_prefix``/``destination`` are Categorical,
        ``price`` Decimal(18, 8), ``billed_seconds`` Int64, ``cost`` Decimal(18, decimals).
        ``text``: ``text_table`` with other dtypes for its text columns (the same rows).
        A cost beyond DECIMAL(18, decimals) is a ``CostOverflowError``, or with
        ``keep_overflow`` listed in the ``Rating``'s ``overflow``.
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
        scalar_ranks = None if per_call else self._versions.ranks(at, 1)
        bad = numbers.fixed_index[numbers.fixed_problems.is_not_null().to_numpy()]
        unmatched = len(self.deck)  # index of the trailing null row of ``self._text``
        index = np.empty(n, self._index_dtype)
        billed = np.empty(n, np.int64)
        cost = np.empty(n, np.int64)
        overflows: dict[int, dict[int, str]] = {}  # per block (threads add distinct keys)

        def rate_block(start: int) -> None:
            stop = min(start + block, n)
            if times is not None:
                ranks = self._versions.ranks(times[start:stop], stop - start)
            elif scalar_ranks is not None:
                ranks = np.broadcast_to(scalar_ranks, (stop - start,))
            else:
                ranks = None
            rows = self._match_keys(numbers.keys[start:stop], numbers.lengths[start:stop], ranks)
            block_billed, block_cost, block_overflow = self._billed_and_cost_or_overflow(
                rows, durations[start:stop], decimals
            )
            if block_overflow:
                overflows[start] = {start + k: reason for k, reason in block_overflow.items()}
            index[start:stop] = np.where(rows < 0, unmatched, rows) if rows.min() < 0 else rows
            billed[start:stop] = block_billed
            cost[start:stop] = block_cost

        run_blocks(rate_block, n, block, threads)
        index[bad] = unmatched
        matched = index != unmatched
        overflow = {
            position: reason
            for start in sorted(overflows)
            for position, reason in overflows[start].items()
            if matched[position]  # a bad number matched in passing is no call
        }
        if overflow and not keep_overflow:
            raise CostOverflowError(next(iter(overflow.values())))
        frame = self._frame(index, billed, cost, decimals, matched, text)
        return Rating(frame, matched, billed, cost, index, self.deck, overflow)

    def _frame(
        self,
        index: np.ndarray,
        billed: np.ndarray,
        cost: np.ndarray,
        decimals: int,
        matched: np.ndarray | None = None,
        text: pl.DataFrame | None = None,
    ) -> pl.DataFrame:
        """The rate columns. One gather per text column over all numbers: polars' per-call
        overhead makes block-wise gathers several times slower."""
        if matched is None:
            matched = index != len(self.deck)
        bitmap = None if matched.all() else pa.py_buffer(np.packbits(matched, bitorder="little"))
        table = self._text if text is None else text
        return table[_index_series(index)].with_columns(
            _with_nulls(billed, bitmap, pa.int64(), "billed_seconds"),
            _with_nulls(cost, bitmap, pa.decimal64(18, decimals), "cost"),
        )

    def rate_rows(self, rows: np.ndarray, durations: np.ndarray, decimals: int) -> pl.DataFrame:
        """The rate columns for rows found by ``match`` (small inputs, e.g. one lookup)."""
        billed, cost = self.billed_and_cost(rows, durations, decimals)
        return self._frame(np.where(rows < 0, len(self.deck), rows), billed, cost, decimals)
