"""Prefix index of the LPM engine: the longest deck prefix of each key, vectorised.

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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import polars as pl

from pipeline.analytics._errors import DeckError
from pipeline.analytics.numbers import KEY_DIGITS, POW10_U64

KEY_END = np.uint64(10**KEY_DIGITS)
NO_MATCH = -1
_CHILD = -2  # table entries <= -2 point to a child block: child = _CHILD - entry


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


class PrefixIndex:
    """The distinct prefixes of a deck column, their parents, and a trie over their ranges.

    Per prefix id (an index into ``prefixes``, plus a trailing sentinel for id ``-1``):
    ``lengths`` and ``parent`` (the next shorter prefix of the deck, ``-1`` none). Per deck
    row: ``row_pid``. ``first_digits``/``stride``: trie shape (digits indexed by the first
    table, then per level).
    """

    def __init__(self, prefix_column: pl.Series, *, first_digits: int | None, stride: int):
        bounds, labels = self._build(prefix_column)
        depth = self.max_length = int(self.lengths.max())
        if first_digits is None:  # 10-100 slots per prefix, at most 10**7 (a 40 MB table):
            # filling a bigger first table costs more than its faster look-ups save
            first_digits = min(7, len(str(10 * max(1, len(self.prefixes)))))
        first_digits = max(1, min(first_digits, max(depth, 1)))
        self._trie = _build_trie(bounds, labels, first_digits, stride, depth)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Prefix id (or -1, int64) of the longest prefix covering each key's range."""
        return self._trie.lookup(keys)

    def _build(self, prefix_column: pl.Series) -> tuple[np.ndarray, np.ndarray]:
        """Prefixes, parents and lengths; returns the elementary intervals and labels."""
        prefix = prefix_column.cast(pl.String)
        digits_only = prefix.str.contains(r"^[0-9]*$").fill_null(False)
        if not digits_only.all():
            raise DeckError(f"bad prefix {prefix.filter(~digits_only)[0]!r}: digits only")
        if len(prefix) and cast(int, prefix.str.len_bytes().max()) > KEY_DIGITS:
            raise DeckError(f"prefix longer than {KEY_DIGITS} digits")
        distinct = prefix.unique().sort()
        self.prefixes: list[str] = distinct.to_list()
        n = len(distinct)
        self.row_pid = (
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
        self.lengths = np.append(lengths, 0)
        self.parent = np.append(_longest_member(lo, lengths, by_length), NO_MATCH)
        bounds = np.unique(np.concatenate([np.zeros(1, np.uint64), lo, hi]))
        bounds = bounds[bounds < KEY_END]
        return bounds, _longest_member(bounds, None, by_length)
