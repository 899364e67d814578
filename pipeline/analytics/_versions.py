"""Versions of the LPM engine: which of a prefix's deck rows applies at a call's time.

A deck row may carry ``valid_from``/``valid_to`` (valid on ``[from, to)``; null ``valid_to`` =
open-ended). Per prefix the versions become disjoint segments (overlaps are resolved as
``lpm_rate`` does in SQL, see ``Versions._resolve_overlaps``); a call at time ``t`` takes the
segment covering ``t`` - the rows ``voice_rate_at(t)`` returns - so one engine rates calls
across any number of price changes. Times are compared as ranks: how many version boundaries
lie at or before them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl

from pipeline.analytics._errors import DeckError
from pipeline.analytics._prefix_index import NO_MATCH

_T_MIN = np.iinfo(np.int64).min  # valid_from null: since always
_T_MAX = np.iinfo(np.int64).max  # valid_to null: open-ended


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


class Versions:
    """The validity segments of a deck's rows, grouped by prefix id.

    ``row_pid``: prefix id per deck row; ``price_units``, ``initial``, ``increment``: per deck
    row, to rank overlapping versions. ``seg_row``: deck row per segment (a trailing sentinel
    ``-1``); ``pid_row``: the row of a prefix with exactly one version (else ``-1``).
    """

    def __init__(
        self,
        deck: pl.DataFrame,
        row_pid: np.ndarray,
        n_prefixes: int,
        *,
        price_units: np.ndarray,
        initial: np.ndarray,
        increment: np.ndarray,
    ):
        self._deck = deck
        self._price_units, self._initial, self._increment = price_units, initial, increment
        self._build(deck, row_pid, n_prefixes)

    @property
    def timeless(self) -> bool:
        """True when no prefix has more than one version, nor a bounded one."""
        return self._timeless

    def ranks(self, at: np.ndarray | datetime | int | None, n: int) -> np.ndarray | None:
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

    def segment_at(
        self, pid: np.ndarray, ranks: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """For prefix ids (>= 0), the segment valid at each rank, and whether there is one.

        ``_seg_any`` is the prefix's only segment, its first, or the sentinel (which no rank
        falls in) when it has none; only prefixes with several segments need a search.
        """
        seg = np.take(self._seg_any, pid)
        if ranks is None:
            return seg, seg != len(self.seg_row) - 1
        multi = np.flatnonzero(np.take(self._seg_count, pid) > 1)
        if multi.size:  # the latest segment of the prefix starting at or before the time
            p = pid[multi]
            at = np.searchsorted(self._multi_keys, p * self._multi_stride + ranks[multi], "right")
            found = np.take(self._multi_index, np.maximum(at - 1, 0))
            mine = (at > 0) & (np.take(self._seg_pid, found) == p)
            seg[multi] = np.where(mine, found, len(self.seg_row) - 1)
        ok = np.take(self._seg_start_rank, seg) <= ranks
        ok &= ranks < np.take(self._seg_end_rank, seg)
        return seg, ok

    def _build(self, deck: pl.DataFrame, row_pid: np.ndarray, n_prefixes: int) -> None:
        n = len(deck)
        start = np.full(n, _T_MIN, np.int64)
        end = np.full(n, _T_MAX, np.int64)
        if "valid_from" in deck.columns:
            start = epoch_us_series(deck["valid_from"]).fill_null(_T_MIN).to_numpy()
        if "valid_to" in deck.columns:
            end = epoch_us_series(deck["valid_to"]).fill_null(_T_MAX).to_numpy()
        rows = np.flatnonzero(start < end)  # an empty interval (withdrawn version) never applies
        pid, start, end = row_pid[rows], start[rows], end[rows]
        order = np.lexsort((end, start, pid))
        rows, pid, start, end = rows[order], pid[order], start[order], end[order]
        # sorted by start, the first overlap (if any) is between neighbours
        overlap = (pid[1:] == pid[:-1]) & (start[1:] < end[:-1])
        if overlap.any():
            rows, pid, start, end = self._resolve_overlaps(rows, pid, start, end, overlap)
        self.seg_row = np.append(rows, NO_MATCH)  # sentinel segment for "none"
        self._seg_pid = np.append(pid, NO_MATCH)
        self._seg_first = np.append(np.searchsorted(pid, np.arange(n_prefixes)), len(rows))
        self._seg_count = np.append(np.bincount(pid, minlength=n_prefixes), 0)
        # a prefix whose versions are all empty has no segment: matches fall to its parent
        finite = np.unique(np.concatenate([start[start != _T_MIN], end[end != _T_MAX]]))
        self._time_bounds = finite
        # timeless: one segment per prefix, valid always (a prefix left without one, its
        # only version withdrawn, must fall to its parent: the walk does that)
        self._timeless = finite.size == 0 and bool((self._seg_count[:-1] == 1).all())
        self._seg_start_rank = np.append(np.searchsorted(finite, start, side="right"), 0)
        end_rank = np.where(end == _T_MAX, len(finite) + 1, np.searchsorted(finite, end, "right"))
        self._seg_end_rank = np.append(end_rank, 0)
        multi = np.flatnonzero(self._seg_count[pid] > 1)
        self._multi_stride = np.int64(len(finite) + 2)
        self._multi_keys = pid[multi] * self._multi_stride + self._seg_start_rank[multi]
        self._multi_index = multi
        # one version per prefix (the common case): prefix id -> deck row, sentinel -> -1
        self.pid_row = np.where(self._seg_count == 1, self.seg_row[self._seg_first], NO_MATCH)
        sentinel = len(self.seg_row) - 1
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
        destinations = self._deck["destination"].cast(pl.String).to_list()

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
