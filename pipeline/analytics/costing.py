"""Costing calls in batches: memory bounded by the batch and the engines, not by the calls.

* ``CallCoster(con, ...)``: the engines of the asked tech prefixes, built once from the
  warehouse; ``cost_frame(calls)`` costs one frame of calls (a batch, or all of them) and adds
  it to running totals kept in integers, so the summary of many batches is exactly the
  summary of one. ``summary()`` reads the totals. The CDR costing asset calls this.
* ``cost_file(con, source, out, rejects, ...)``: a CSV or Parquet file of calls streamed in
  batches of ``batch_rows``: polars' streaming reader (``collect_batches``) feeds the batches
  to ``cost_frame`` inside a polars IO source (``register_io_source``) that polars' streaming
  sink writes to ``out`` (CSV, or snappy Parquet) while the next batches are read; bad rows are
  appended to ``rejects`` with their row numbers. Output and totals are the same whatever the
  batch size. (Both polars APIs are marked unstable: the tests pin the behaviour.)

Engines: a call with a ``started_at`` is priced as of that moment. The engine of a tech prefix
holds every version in force between the earliest and latest moment seen so far (now
included, for calls without ``started_at``); a batch outside that span rebuilds it for the
wider span, which rates every call as the narrower one did; a batch earlier than the span
widens it back to 1970, so an engine is built at most twice per tech prefix for calls in the
past, whatever their order.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast

import numpy as np
import polars as pl
from polars.io.plugins import register_io_source

from pipeline.analytics._engine import TEXT_DTYPE, LpmEngine, Rating
from pipeline.analytics._engine_cache import Catalog, EngineCache
from pipeline.analytics._money import PRICE_DTYPE
from pipeline.analytics._versions import epoch_us
from pipeline.analytics.codecs import COMPRESSIONS, DEFAULT_COMPRESSION
from pipeline.analytics.lookup import (
    OUTPUT_COLUMNS,
    CheapestMix,
    CheckedCalls,
    CostSummary,
    OutputText,
    TechPrefixTotal,
    check_call_columns,
    check_calls,
    from_epoch_us,
    interleave,
    load_versions,
    rate_calls,
    text_categories,
)
from pipeline.analytics.one_call import (
    Decks,
    before_history_hint,
    deck_aliases,
    history_starts,
    known_tech_prefixes,
)
from pipeline.clock import as_utc
from pipeline.durable import (
    OwnedTemporary,
    owned_temporary,
    remove_quietly,
    remove_stale_temporaries,
)
from pipeline.errors import InputError, os_error_reason
from pipeline.warehouse.migrate import read_sql

if TYPE_CHECKING:
    # DuckDB is imported by whoever opens the warehouse; a cache hit opens none
    import duckdb
    from polars._typing import ParquetCompression

DEFAULT_BATCH_ROWS = 250_000  # small enough to overlap reading, costing and writing
# Parquet output rows per row group. Each row group carries the whole dictionary of every
# Enum text column (27k prefixes: ~0.3 MB); polars' streaming sink otherwise cuts a row group
# wherever a batch ends (2k-156k rows), so readers decode those dictionaries ~10x as often
# (10M costed calls: polars and pyarrow read matched_prefix 2.2x faster, files 4% smaller)
OUTPUT_ROW_GROUP_ROWS = 1_000_000
CALL_COLUMNS = ("number", "duration", "started_at")  # the first two required
SEPARATORS = ",;\t|"
LISTED_BAD_ROWS = 5
_NO_COST = np.iinfo(np.int64).max  # "unmatched" in the cheapest-mix comparison
_EPOCH = 0  # 1970-01-01 in epoch microseconds: before any rate history
_ALWAYS = (-(2**62), 2**62)  # a window without a version boundary on one side or the other


# -- reading a file of calls ----------------------------------------------------------------
def scan_calls(path: Path) -> pl.LazyFrame:
    """The calls of a CSV (read as text: numbers keep their +, 00 and leading zeros) or
    Parquet file (typed), the call columns under their canonical names; nothing read yet
    but the header. ``InputError`` naming the file when it cannot be used."""
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a file of calls")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    name = path.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            frame = pl.scan_parquet(path)
        elif name.endswith((".csv", ".csv.gz", ".txt")):
            frame = pl.scan_csv(path, infer_schema=False, separator=sniff_separator(path))
        else:
            raise InputError(f"{path}: expected a .csv or .parquet file of calls")
        columns = frame.collect_schema().names()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _read_error(path, exc) from None
    return canonical_columns(frame, columns, path)


def sniff_separator(path: Path) -> str:
    """The header's separator: a spreadsheet in a comma-decimal locale saves ``;``."""
    opener: Callable[..., IO[str]] = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", errors="replace", newline="") as handle:
        header = handle.readline()
    try:
        return csv.Sniffer().sniff(header, delimiters=SEPARATORS).delimiter
    except csv.Error:
        return ","  # one column, or no separator the sniffer trusts: polars says the rest


def canonical_columns(frame: pl.LazyFrame, columns: Sequence[str], path: Path) -> pl.LazyFrame:
    """``Number``/`` DURATION `` -> ``number``/``duration``; a file without them is named with
    the columns it has."""
    found = {c.strip().lower(): c for c in columns}
    missing = [c for c in CALL_COLUMNS[:2] if c not in found]
    if missing:
        have = ", ".join(repr(c) for c in columns) or "none"
        raise InputError(
            f"{path}: expected columns number and duration (optionally started_at); found {have}"
        )
    renames = {found[c]: c for c in CALL_COLUMNS if c in found and found[c] != c}
    return frame.rename(renames) if renames else frame


def _read_error(path: Path, exc: Exception) -> InputError:
    text = str(exc).strip()
    first_line = text.splitlines()[0] if text else type(exc).__name__
    return InputError(f"{path}: cannot read calls: {first_line}")


# -- totals across batches ------------------------------------------------------------------
@dataclass
class _Totals:
    """Running totals of one tech prefix, in integers (cost in units of 10^-decimals)."""

    matched: int = 0
    billed_seconds: int = 0
    cost_units: int = 0
    before_history: int = 0


@dataclass
class _MixTotals:
    matched: int = 0
    cost_units: int = 0
    chosen: dict[str, int] = field(default_factory=dict)


@dataclass
class CostedBatch:
    """One batch: ``frame`` (input columns + ``OUTPUT_COLUMNS``, see ``CostResult``),
    ``bad_rows`` (``row``: 1-based position in the whole input, the input columns as text,
    ``reason``) and per tech prefix the ``Rating`` of the good rows (in ``frame``'s order
    of calls)."""

    frame: pl.DataFrame
    bad_rows: pl.DataFrame
    ratings: list[Rating] = field(default_factory=list, repr=False)


@dataclass
class _Engine:
    engine: LpmEngine
    span: tuple[int, int]  # epoch microseconds asked for when it was built (widened from)
    window: tuple[int, int]  # any span within it gets the same engine (span itself, at least)


class CallCoster:
    """Costs frames of calls for the tech prefixes asked (by default every one with a deck of
    its own; an alias asked for is priced on the deck it shares, under its own name: see
    ``one_call.Decks``), keeping exact totals across them. ``now``: the moment of calls
    without ``started_at``.

    ``con``: a read-only connection to the warehouse, or a function opening one when first
    needed. ``cache``: engines and catalog kept between runs (``_engine_cache``); with a valid
    one, the warehouse is not read at all. ``reject_overflow``: a call whose cost does not fit
    DECIMAL(18, cost_decimals) on some tech prefix is a bad row (see ``_set_aside_overflows``);
    without it, a ``CostOverflowError``."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection | Callable[[], duckdb.DuckDBPyConnection],
        *,
        tech_prefixes: Sequence[str] | None = None,
        cost_decimals: int = 6,
        now: datetime | None = None,
        threads: int | None = None,
        cache: EngineCache | None = None,
        reject_overflow: bool = False,
    ):
        self._open = con if callable(con) else lambda: con
        self._reject_overflow = reject_overflow
        self._con: duckdb.DuckDBPyConnection | None = None
        self._cache = cache
        known, starts, aliases = self._catalog()
        self.decks = Decks(known, aliases)
        self.tech_prefixes = self.decks.choose(tech_prefixes)
        self._listed_all = not tech_prefixes
        self.cost_decimals = cost_decimals
        self.now_us = epoch_us(as_utc(now or datetime.now(UTC)))
        self._threads = threads
        self._starts = {
            tp: starts[deck]
            for tp in self.tech_prefixes
            if (deck := self.decks.deck_of(tp)) in starts
        }
        self._engines: dict[str, _Engine] = {}  # by deck: tech prefixes sharing one share it
        self.calls = 0  # good calls costed
        self.bad_rows = 0
        self.rows_seen = 0  # every input row: the next batch's first row is rows_seen + 1
        self._totals = {tp: _Totals() for tp in self.tech_prefixes}
        self._mix = _MixTotals(chosen=dict.fromkeys(self.tech_prefixes, 0))
        self.output_text: OutputText | None = None  # None: Categorical text columns

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = self._open()
        return self._con

    def _catalog(self) -> Catalog:
        """Every tech prefix with rates, when each one's history starts, and the aliases."""
        cached = self._cache.catalog() if self._cache is not None else None
        if cached is not None:
            return cached
        con = self._connection()
        known = known_tech_prefixes(con)
        starts = history_starts(con, known) if known else {}
        aliases = deck_aliases(con)
        if self._cache is not None and known:
            self._cache.save_catalog(known, starts, aliases)
        return known, starts, aliases

    @property
    def _decks_costed(self) -> list[str]:
        """The decks that price the tech prefixes asked, each once."""
        return list(dict.fromkeys(self.decks.deck_of(tp) for tp in self.tech_prefixes))

    def fix_output_text(self) -> OutputText:
        """Rate into the Enum text columns of ``OutputText`` from now on: what a stream
        written batch by batch needs (every batch of the same dtypes), and quicker to write."""
        if self.output_text is None:
            self.output_text = OutputText(self.tech_prefixes, *self._text_categories())
        return self.output_text

    def _text_categories(self) -> tuple[list[str], list[str]]:
        decks = self._decks_costed
        cached = self._cache.text_categories(decks) if self._cache else None
        if cached is not None:
            return cached
        found = text_categories(self._connection(), decks)
        if self._cache is not None:
            self._cache.save_text_categories(decks, *found)
        return found

    def engine(self, tech_prefix: str, span: tuple[int, int]) -> LpmEngine:
        """The engine of ``tech_prefix``'s deck, holding every version in force during
        ``span``."""
        deck = self.decks.deck_of(tech_prefix)
        held = self._engines.get(deck)
        if held is not None and _within(span, held.window):
            return held.engine
        if held is not None:  # widen once for all: a file in reverse time order rebuilds once
            earliest = _EPOCH if span[0] < held.span[0] else held.span[0]
            span = (earliest, max(span[1], held.span[1]))
        self._engines[deck] = self._cached_engine(deck, span) or self._build(deck, span)
        return self._engines[deck].engine

    def _cached_engine(self, tech_prefix: str, span: tuple[int, int]) -> _Engine | None:
        if self._cache is None:
            return None
        try:
            engine, window = self._cache.engine(tech_prefix, span)
        except LookupError:
            return None
        return _Engine(engine, span, window)

    def _build(self, tech_prefix: str, span: tuple[int, int]) -> _Engine:
        con = self._connection()
        start, end = from_epoch_us(span[0]), from_epoch_us(span[1])
        engine = LpmEngine(load_versions(con, tech_prefix, start, end))
        if self._cache is None:
            return _Engine(engine, span, span)
        window = version_window(con, tech_prefix, span)
        self._cache.save_engine(tech_prefix, window, engine)
        return _Engine(engine, span, window)

    def cost_frame(
        self, calls: pl.DataFrame, *, on_step: Callable[[str], None] | None = None
    ) -> CostedBatch:
        """Cost a frame of calls (``number``, ``duration``, optional ``started_at``; the rows
        after those of the frames before) and add it to the totals. ``on_step`` is told each
        step (progress display)."""
        step = on_step or (lambda _text: None)
        check_call_columns(calls)
        step("checking calls")
        first_row = self.rows_seen + 1
        checked = check_calls(calls, now_us=self.now_us, first_row=first_row, threads=self._threads)
        self.rows_seen += len(calls)
        first, last = checked.span
        span = (min(self.now_us, first), max(self.now_us, last))
        rated = []
        for tp in self.tech_prefixes:
            step(f"costing {tp}")
            engine = self.engine(tp, span)
            rating = rate_calls(
                engine,
                tp,
                checked,
                self.cost_decimals,
                self._threads,
                text=self.output_text,
                keep_overflow=self._reject_overflow,
            )
            rated.append(rating)
        if any(rating.overflow for rating in rated):  # rare: a huge price times a long call
            checked, rated = self._set_aside_overflows(checked, rated, first_row, len(calls))
        step("summing up")
        self._add(rated, checked.at, len(checked.calls), len(checked.bad_rows))
        frames = [rating.frame for rating in rated]
        return CostedBatch(interleave(checked.calls, frames), checked.bad_rows, rated)

    def _set_aside_overflows(
        self, checked: CheckedCalls, rated: list[Rating], first_row: int, rows: int
    ) -> tuple[CheckedCalls, list[Rating]]:
        """The calls whose cost does not fit DECIMAL(18, cost_decimals) on any tech prefix
        become bad rows (their reason names each such tech prefix) and leave every tech
        prefix, not only the one they overflow on: each tech prefix's totals, and the
        cheapest mix, then add up the same calls."""
        reasons: dict[int, list[str]] = {}
        for tp, rating in zip(self.tech_prefixes, rated, strict=True):
            for position, reason in rating.overflow.items():
                reasons.setdefault(position, []).append(f"tech prefix {tp}: {reason}")
        positions = np.array(sorted(reasons), dtype=np.int64)
        keep = np.ones(len(checked.calls), dtype=bool)
        keep[positions] = False
        row_numbers = _good_row_numbers(checked.bad_rows, first_row, rows)[positions]
        overflowing = checked.calls[positions].select(pl.all().cast(pl.String))
        overflowing = overflowing.select(
            pl.Series("row", row_numbers, dtype=pl.Int64),
            pl.all(),
            pl.Series("reason", ["; ".join(reasons[p]) for p in positions], dtype=pl.String),
        )
        kept = replace(
            checked,
            calls=checked.calls.filter(pl.Series(keep)),
            numbers=checked.numbers.select(keep),
            durations=checked.durations[keep],
            at=checked.at[keep] if isinstance(checked.at, np.ndarray) else checked.at,
            bad_rows=pl.concat([checked.bad_rows, overflowing]).sort("row"),
        )
        return kept, [_kept_calls(rating, keep) for rating in rated]

    def _add(self, rated: list[Rating], at: np.ndarray | int, calls: int, bad: int) -> None:
        """Add a batch to the totals, from the arrays behind its rate columns."""
        self.calls += calls
        self.bad_rows += bad
        if not calls:
            return
        offers = []  # per tech prefix, the cost of each call there (_NO_COST: unmatched)
        for tp, rating in zip(self.tech_prefixes, rated, strict=True):
            totals = self._totals[tp]
            matched = int(np.count_nonzero(rating.matched))
            # the arrays hold leftovers where unmatched: summed where matched only
            where = None if matched == calls else rating.matched
            if where is not None:
                self._count_before_history(tp, ~where, at)
            totals.matched += matched
            totals.billed_seconds += exact_sum(rating.billed, where)
            batch_cost = exact_sum(rating.cost, where)
            totals.cost_units += batch_cost
            if len(rated) == 1:  # the only tech prefix is the cheapest
                self._mix.matched += matched
                self._mix.cost_units += batch_cost
                self._mix.chosen[tp] += matched
                return
            offers.append(np.where(rating.matched, rating.cost, _NO_COST))
        stacked = np.stack(offers)
        best = np.argmin(stacked, axis=0)  # the first tech prefix on a tie
        best_cost = stacked[best, np.arange(calls)]
        found = best_cost != _NO_COST
        self._mix.matched += int(found.sum())
        self._mix.cost_units += exact_sum(best_cost[found])
        chosen = np.bincount(best[found], minlength=len(rated))
        for tp, count in zip(self.tech_prefixes, chosen, strict=True):
            self._mix.chosen[tp] += int(count)

    def _count_before_history(self, tech_prefix: str, unmatched: np.ndarray, at: object) -> None:
        start = self._starts.get(tech_prefix)
        if start is not None:
            early = unmatched & (np.asarray(at) < epoch_us(start))
            self._totals[tech_prefix].before_history += int(np.sum(early))

    def summary(self) -> CostSummary:
        """The ``CostSummary`` of every frame costed so far."""
        scale = Decimal(1).scaleb(-self.cost_decimals)
        totals, notes = [], self.decks.notes(self.tech_prefixes, listed_all=self._listed_all)
        for tp in self.tech_prefixes:
            t, start = self._totals[tp], self._starts.get(tp)
            totals.append(
                TechPrefixTotal(
                    tech_prefix=tp,
                    rated_on=self.decks.deck_of(tp),
                    calls=self.calls,
                    matched=t.matched,
                    unmatched=self.calls - t.matched,
                    billed_seconds=t.billed_seconds,
                    cost=(Decimal(t.cost_units) * scale).quantize(scale),
                    before_history=t.before_history,
                    history_starts=start,
                )
            )
            if t.before_history and start is not None:
                hint = before_history_hint(tp, start)
                notes.append(f"{t.before_history:,} call(s) before history: {hint}")
        mix = CheapestMix(
            calls=self.calls,
            matched=self._mix.matched,
            unmatched=self.calls - self._mix.matched,
            cost=(Decimal(self._mix.cost_units) * scale).quantize(scale),
            chosen=dict(self._mix.chosen),
        )
        return CostSummary(self.calls, self.bad_rows, self.cost_decimals, totals, mix, notes)


def _good_row_numbers(bad_rows: pl.DataFrame, first_row: int, rows: int) -> np.ndarray:
    """The 1-based input row of each good call of a batch of ``rows`` rows starting at
    ``first_row``: those ``bad_rows`` does not list."""
    good = np.ones(rows, dtype=bool)
    good[bad_rows["row"].to_numpy() - first_row] = False
    return np.flatnonzero(good) + first_row


def _kept_calls(rating: Rating, keep: np.ndarray) -> Rating:
    """``rating`` of the calls where ``keep`` is true."""
    return replace(
        rating,
        frame=rating.frame.filter(pl.Series(keep)),
        matched=rating.matched[keep],
        billed=rating.billed[keep],
        cost=rating.cost[keep],
        index=rating.index[keep],
        overflow={},
    )


def _within(span: tuple[int, int], window: tuple[int, int]) -> bool:
    return window[0] <= span[0] and span[1] <= window[1]


def version_window(
    con: duckdb.DuckDBPyConnection, tech_prefix: str, span: tuple[int, int]
) -> tuple[int, int]:
    """The widest window (epoch microseconds, both ends included) around ``span`` in which
    the versions of ``tech_prefix`` in force stay those of ``span``
    (``queries/lpm_version_bounds.sql``)."""
    parameters = {
        "tech_prefix": tech_prefix,
        "start": from_epoch_us(span[0]),
        "end": from_epoch_us(span[1]),
    }
    # fetchall: DuckDB refuses the next query while a result is left unread
    ((start, end),) = con.execute(read_sql("queries/lpm_version_bounds.sql"), parameters).fetchall()
    return (
        _ALWAYS[0] if start is None else epoch_us(as_utc(start)),
        _ALWAYS[1] if end is None else epoch_us(as_utc(end)) - 1,
    )


def exact_sum(values: np.ndarray, where: np.ndarray | None = None) -> int:
    """The sum of int64 values (those where ``where`` is true) as a Python int, exactly:
    numpy's int64 sum wraps around on overflow.

    When no partial sum can leave int64 (the largest magnitude times the count stays below
    2**63: cost units always, by far), numpy's sum is exact and needs no temporary array.
    Otherwise the values are summed as high and low 32-bit halves, neither of which can
    overflow for fewer than 2**31 values."""
    if not values.size:
        return 0
    if where is None:
        top = max(-int(values.min()), int(values.max()))
        if top < 2**63 // values.size:
            return int(values.sum())
    else:
        top = max(-int(values.min(initial=0, where=where)), int(values.max(initial=0, where=where)))
        if top < 2**63 // values.size:
            return int(values.sum(where=where))
        values = np.where(where, values, 0)
    high = values >> 32  # arithmetic shift: values == high * 2**32 + low, 0 <= low < 2**32
    low = values & 0xFFFFFFFF
    return (int(high.sum(dtype=np.int64)) << 32) + int(low.sum(dtype=np.int64))


# -- a file of calls, streamed --------------------------------------------------------------
@dataclass(frozen=True)
class FileCostResult:
    """What ``cost_file`` did: ``rows_written`` output rows (0 and ``out`` untouched when
    every call was bad), ``bad_rows`` set aside (all in ``rejects``; ``first_bad_rows``: the
    first few, as in ``CostResult.bad_rows``)."""

    summary: CostSummary
    rows_written: int
    bad_rows: int
    first_bad_rows: pl.DataFrame
    rejects: Path | None  # None: no bad row (a stale rejects file is removed)


def output_format(out: Path, *, what: str = "output") -> str:
    """``csv`` or ``parquet``, from the file name; ``what`` names it in the error."""
    name = out.name.lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    raise InputError(f"{what} {out}: use a .csv or .parquet file name")


def output_schema(
    calls: pl.Schema, cost_decimals: int, text: OutputText | None = None
) -> dict[str, pl.DataType]:
    """The columns of the costed output: the input's, then ``OUTPUT_COLUMNS`` (text columns
    Categorical, or ``text``'s Enums)."""
    rate: dict[str, pl.DataType] = {
        "tech_prefix": TEXT_DTYPE() if text is None else text.tech_prefix,
        "matched_prefix": TEXT_DTYPE() if text is None else text.matched_prefix,
        "destination": TEXT_DTYPE() if text is None else text.destination,
        "price": PRICE_DTYPE,
        "billed_seconds": pl.Int64(),
        "cost": pl.Decimal(18, cost_decimals),
    }
    return {**calls, **{name: rate[name] for name in OUTPUT_COLUMNS}}


def cost_file(
    con: duckdb.DuckDBPyConnection | Callable[[], duckdb.DuckDBPyConnection],
    source: Path,
    out: Path,
    *,
    rejects: Path,
    tech_prefixes: Sequence[str] | None = None,
    cost_decimals: int = 6,
    now: datetime | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    threads: int | None = None,
    on_batch: Callable[[int], None] | None = None,
    cache: EngineCache | None = None,
    compression: str = DEFAULT_COMPRESSION,
    row_group_rows: int = OUTPUT_ROW_GROUP_ROWS,
) -> FileCostResult:
    """Cost a CSV/Parquet file of calls into ``out`` (``.csv`` or ``.parquet``), batch by
    batch: peak memory is a few batches plus the engines, whatever the file's size.

    Bad rows go to ``rejects`` (CSV: ``row``, the input columns, ``reason``), written only
    if there is one. A file with no row at all is an ``InputError`` (nothing written). ``out``
    and ``rejects`` appear whole or not at all (written under a temporary name, then
    renamed). ``on_batch`` is told the rows read so far. ``con`` and
    ``cache`` as in ``CallCoster``. ``compression``: the Parquet codec (``COMPRESSIONS``);
    ``row_group_rows``: output rows per Parquet row group (the last one holds the rest).
    """
    fmt = output_format(out)
    if compression not in COMPRESSIONS:
        raise InputError(f"compression {compression!r}: use one of {', '.join(COMPRESSIONS)}")
    calls = scan_calls(source)
    coster = CallCoster(
        con,
        tech_prefixes=tech_prefixes,
        cost_decimals=cost_decimals,
        now=now,
        threads=threads,
        cache=cache,
        reject_overflow=True,
    )
    input_schema = calls.collect_schema()
    check_call_columns(pl.DataFrame(schema=input_schema))  # before any work
    schema = output_schema(input_schema, cost_decimals, coster.fix_output_text())
    with _Rejects(rejects) as rejected:

        def costed_batches(*_pushdown: object) -> Iterator[pl.DataFrame]:
            for batch in _batches(calls, source, batch_rows):
                costed = coster.cost_frame(batch)
                rejected.write(costed.bad_rows)
                if on_batch is not None:
                    on_batch(coster.rows_seen)
                yield costed.frame

        frames = register_io_source(costed_batches, schema=schema)
        wrote = _sink(
            frames,
            out,
            _ParquetLayout(compression, row_group_rows) if fmt == "parquet" else None,
            keep=lambda: coster.calls > 0,
        )
        if not coster.rows_seen:  # raised inside: a stale rejects file is left alone too
            raise InputError(f"{source}: no calls (only a header)")
    return FileCostResult(
        coster.summary(),
        coster.calls * len(coster.tech_prefixes) if wrote else 0,
        coster.bad_rows,
        rejected.first,
        rejects if coster.bad_rows else None,
    )


def _batches(calls: pl.LazyFrame, source: Path, batch_rows: int) -> Iterator[pl.DataFrame]:
    try:
        yield from calls.collect_batches(chunk_size=batch_rows)
    except (pl.exceptions.PolarsError, OSError) as exc:  # a bad line deep in the file
        raise _read_error(source, exc) from None


@dataclass(frozen=True)
class _ParquetLayout:
    compression: str
    row_group_rows: int


def _sink(
    frames: pl.LazyFrame, out: Path, parquet: _ParquetLayout | None, keep: Callable[[], bool]
) -> bool:
    """Stream ``frames`` into ``out`` (CSV, or Parquet laid out as ``parquet`` says) under a
    temporary name of its own; rename it in place if ``keep()`` says so once all is written
    (two runs writing the same ``out``: each file appears whole, the last rename wins). The
    temporaries of ``out`` that killed runs left are removed first."""
    try:
        with owned_temporary(out) as tmp:
            if parquet is None:
                frames.sink_csv(tmp)
            else:
                frames.sink_parquet(
                    tmp,
                    compression=cast("ParquetCompression", parquet.compression),
                    row_group_size=parquet.row_group_rows,
                )
            if not keep():
                return False
            tmp.replace(out)
            return True
    except OSError as exc:  # a read-only folder, a full disk...
        raise _write_error(out, exc) from None


def _write_error(path: Path, exc: OSError) -> InputError:
    return InputError(f"{path}: cannot write: {os_error_reason(exc)}")


class _Rejects:
    """Bad rows appended to a CSV under a temporary name of its own, renamed in place on
    success; no file (and a stale one removed) when there is none. Keeps the first few for
    display. A file that cannot be written is an ``InputError`` naming it."""

    def __init__(self, path: Path):
        self.path = path
        remove_stale_temporaries(path)  # left by killed runs
        self._tmp: OwnedTemporary | None = None  # made with the first bad row
        self._handle: IO[bytes] | None = None
        self.first = pl.DataFrame()

    def __enter__(self) -> _Rejects:
        return self

    def write(self, bad_rows: pl.DataFrame) -> None:
        if len(self.first) < LISTED_BAD_ROWS and len(bad_rows):
            shown = [self.first, bad_rows] if len(self.first) else [bad_rows]
            self.first = pl.concat(shown).head(LISTED_BAD_ROWS)
        if not len(bad_rows):
            return
        header = self._handle is None
        try:
            if self._handle is None:
                self._tmp = OwnedTemporary(self.path)
                self._handle = self._tmp.path.open("wb")
            bad_rows.write_csv(self._handle, include_header=header)
        except OSError as exc:
            raise _write_error(self.path, exc) from None

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        try:
            self._finish(succeeded=kind is None)
        except OSError as exc:
            if kind is None:  # else the run's own error is the one to report
                raise _write_error(self.path, exc) from None
        finally:
            if self._tmp is not None:
                remove_quietly(self._tmp.path)
                self._tmp.close()

    def _finish(self, *, succeeded: bool) -> None:
        if self._handle is not None and self._tmp is not None:
            self._handle.close()
            if succeeded:
                self._tmp.path.replace(self.path)
        elif succeeded and self.path.exists():
            self.path.unlink()  # a stale file from an earlier run misleads
