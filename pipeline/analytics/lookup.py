"""Longest-prefix-match rate lookup and call costing against the warehouse, as of any moment.

* ``lookup_number(con, number, ...)``: one number, per tech prefix: the matched prefix, its
  destination, price, increments, billed seconds and cost; ``cheapest(results)``. Defined in
  ``one_call.py`` (DuckDB only, through the SQL macros) and re-exported here.
* ``cost_calls(con, calls, ...)``: a frame of calls (``number``, ``duration``, optional
  ``started_at``) costed for every tech prefix, set-based (``LpmEngine``). A call with a
  ``started_at`` is rated at the prices valid at that moment - one engine per tech prefix
  holds every version in force during the calls' time span - and one without at ``now``.

The warehouse is read through the ``lpm_versions`` table macro (sql/macros/100_lpm.sql), so
a read-only connection is enough. Money stays exact: DECIMAL in, integers inside, Decimal out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import polars as pl

from pipeline.analytics._engine import RATE_COLUMNS, TEXT_DTYPE, LpmEngine, Rating
from pipeline.analytics._errors import DeckError
from pipeline.analytics._versions import epoch_us
from pipeline.analytics.numbers import ParsedNumbers, parse_numbers

# one number (lookup_number) needs DuckDB only: it lives in one_call.py, re-exported here
from pipeline.analytics.one_call import LookupResult as LookupResult
from pipeline.analytics.one_call import UnknownTechPrefixError as UnknownTechPrefixError
from pipeline.analytics.one_call import cheapest as cheapest
from pipeline.analytics.one_call import known_tech_prefixes as known_tech_prefixes
from pipeline.analytics.one_call import lookup_number as lookup_number
from pipeline.analytics.one_call import resolve_tech_prefixes as resolve_tech_prefixes
from pipeline.clock import EARLIEST, LATEST, MOMENT_RANGE
from pipeline.errors import InputError
from pipeline.limits import MAX_CALL_SECONDS, TOO_LARGE
from pipeline.warehouse.migrate import read_sql

if TYPE_CHECKING:  # DuckDB is imported only when the warehouse is read (not on a cache hit)
    import duckdb

OUTPUT_COLUMNS = ("tech_prefix", *RATE_COLUMNS)
CALL_COLUMNS = ("number", "duration")
# the start times a call may have (clock.MOMENT_RANGE) in epoch microseconds
_MOMENT_RANGE_US = (epoch_us(EARLIEST), epoch_us(LATEST))
_TIMESTAMP_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)


class CallsInputError(InputError):
    """A calls frame/file the costing cannot use at all (missing column, clashing names)."""


# -- reading the warehouse ------------------------------------------------------------------
def load_versions(
    con: duckdb.DuckDBPyConnection,
    tech_prefix: str,
    start: datetime,
    end: datetime,
    prefixes: Sequence[str] | None = None,
) -> pl.DataFrame:
    """The versions of a tech prefix's deck in force at some moment of ``[start, end]``
    (optionally only the given prefixes): an engine built on them rates any call made then."""
    query = "SELECT * FROM lpm_versions(?, ?, ?)"
    params: list[object] = [tech_prefix, start, end]
    if prefixes is not None:
        query += " WHERE list_contains(?, prefix)"
        params.append(list(prefixes))
    versions: pl.DataFrame = con.sql(query, params=params).pl()
    return versions


# -- many calls -----------------------------------------------------------------------------
@dataclass(frozen=True)
class TechPrefixTotal:
    tech_prefix: str
    calls: int
    matched: int
    unmatched: int
    billed_seconds: int
    cost: Decimal
    before_history: int = 0  # unmatched calls made before the tech prefix's history starts
    history_starts: datetime | None = None
    # the tech prefix whose deck priced them: ``tech_prefix``, or the deck an alias shares
    rated_on: str | None = None


@dataclass(frozen=True)
class CheapestMix:
    """Every call routed to its cheapest tech prefix (among those that match it)."""

    calls: int
    matched: int
    unmatched: int  # no tech prefix matches the number
    cost: Decimal
    chosen: dict[str, int]  # calls per tech prefix


@dataclass(frozen=True)
class CostSummary:
    calls: int  # good calls costed
    bad_rows: int
    cost_decimals: int
    per_tech_prefix: list[TechPrefixTotal]
    cheapest: CheapestMix
    # one line per alias priced or left out, saying which deck it shares ("021001: priced on
    # current's deck (the same deck, stored once)"), then one per tech prefix with calls
    # before its history, e.g. "2 call(s) before history: no price: history for tech prefix
    # current starts 2026-12-02 10:00 UTC"
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CostResult:
    """``frame``: every input column plus ``tech_prefix, matched_prefix, destination, price,
    billed_seconds, cost``, one row per good call per tech prefix (calls in input order, tech
    prefixes in the order asked); unmatched: null match columns and cost. ``tech_prefix``,
    ``matched_prefix`` and ``destination`` are Categorical (text, cheap to gather and to
    write). ``bad_rows``: ``row`` (1-based position in the input), the input columns as text,
    ``reason``."""

    frame: pl.DataFrame
    summary: CostSummary
    bad_rows: pl.DataFrame = field(repr=False)


def cost_calls(
    con: duckdb.DuckDBPyConnection,
    calls: pl.DataFrame,
    *,
    tech_prefixes: Sequence[str] | None = None,
    cost_decimals: int = 6,
    now: datetime | None = None,
    threads: int | None = None,
    on_step: Callable[[str], None] | None = None,
) -> CostResult:
    """Cost every call for every tech prefix (see ``CostResult``); bad rows (a call whose cost
    does not fit DECIMAL(18, cost_decimals) on some tech prefix too) are set aside, never
    dropped silently. ``on_step`` is told each step (progress display). All in memory:
    ``pipeline.analytics.costing`` streams a file of any size in batches."""
    from pipeline.analytics.costing import CallCoster  # costing builds on this module

    check_call_columns(calls)
    coster = CallCoster(
        con,
        tech_prefixes=tech_prefixes,
        cost_decimals=cost_decimals,
        now=now,
        threads=threads,
        reject_overflow=True,
    )
    batch = coster.cost_frame(calls, on_step=on_step)
    return CostResult(batch.frame, coster.summary(), batch.bad_rows)


@dataclass(frozen=True)
class CheckedCalls:
    """A frame of calls split into the good ones, ready to rate, and the bad rows."""

    calls: pl.DataFrame  # the good rows, input columns
    numbers: ParsedNumbers
    durations: np.ndarray  # int64 seconds
    at: np.ndarray | int  # epoch microseconds per call, or one moment for all
    bad_rows: pl.DataFrame  # see ``CostResult``
    now_us: int  # the moment of calls without a start time

    @property
    def span(self) -> tuple[int, int]:
        """The earliest and latest call time (``now`` when there are none)."""
        at = np.asarray(self.at)
        if not at.size:
            return self.now_us, self.now_us
        return int(at.min()), int(at.max())


def check_calls(
    calls: pl.DataFrame, *, now_us: int, first_row: int = 1, threads: int | None = None
) -> CheckedCalls:
    """Validate numbers, durations and start times; ``first_row``: the 1-based row number of
    the frame's first row in the whole input (for the bad rows)."""
    numbers = parse_numbers(calls["number"], threads=threads)
    durations, duration_problem = parse_durations(calls["duration"])
    if "started_at" in calls.columns:
        times, time_problem = parse_start_times(calls["started_at"])
    else:
        times, time_problem = None, None
    reasons = _combine_reasons(
        _number_reasons(calls["number"], numbers), duration_problem, time_problem
    )
    if reasons is None:  # every call is good
        at = now_us if times is None else np.where(times.mask, now_us, times.values)
        return CheckedCalls(calls, numbers, durations, at, _no_bad_rows(calls), now_us)
    bad = reasons.is_not_null().to_numpy()
    good = ~bad
    at = now_us if times is None else np.where(times.mask[good], now_us, times.values[good])
    return CheckedCalls(
        calls.filter(pl.Series(good)),
        numbers.select(good),
        durations[good],
        at,
        _bad_rows(calls, bad, reasons, first_row),
        now_us,
    )


def rate_calls(
    engine: LpmEngine,
    tech_prefix: str,
    checked: CheckedCalls,
    decimals: int,
    threads: int | None = None,
    *,
    text: OutputText | None = None,
    keep_overflow: bool = False,
) -> Rating:
    """The rate columns (``RATE_COLUMNS`` and ``tech_prefix``) of the good calls, with the
    arrays behind them (``Rating``). Text columns: Categorical, or ``text``'s Enums.
    ``keep_overflow``: as in ``LpmEngine.rate_arrays``."""
    rating = engine.rate_arrays(
        checked.numbers,
        checked.durations,
        at=checked.at,
        decimals=decimals,
        threads=threads,
        text=None if text is None else text.table(tech_prefix, engine),
        keep_overflow=keep_overflow,
    )
    dtype = TEXT_DTYPE() if text is None else text.tech_prefix
    tech_prefix_column = pl.lit(tech_prefix, dtype=dtype).alias("tech_prefix")
    return replace(rating, frame=rating.frame.with_columns(tech_prefix_column))


class OutputText:
    """Enums for the text columns of a costed output, fixed before its first batch: every
    tech prefix asked, and every prefix and destination their decks ever held
    (``queries/lpm_text_categories.sql``). Polars writes an Enum to Parquet twice as fast as
    a Categorical, whose values it first maps batch by batch; and every batch of a stream
    must have the same dtypes."""

    def __init__(self, tech_prefixes: Sequence[str], prefixes: list[str], destinations: list[str]):
        self.tech_prefix = pl.Enum(list(dict.fromkeys(tech_prefixes)))
        self.matched_prefix = pl.Enum(prefixes)
        self.destination = pl.Enum(destinations)
        self._tables: dict[str, tuple[LpmEngine, pl.DataFrame]] = {}

    def table(self, tech_prefix: str, engine: LpmEngine) -> pl.DataFrame:
        """``engine.text_table`` with these Enums (recast only when the engine changes)."""
        held = self._tables.get(tech_prefix)
        if held is not None and held[0] is engine:
            return held[1]
        types = {"matched_prefix": self.matched_prefix, "destination": self.destination}
        try:
            table = engine.text_table.cast(types)  # type: ignore[arg-type]
        except pl.exceptions.InvalidOperationError:
            raise DeckError(
                f"tech prefix {tech_prefix}: its deck holds a prefix or destination the "
                "warehouse did not list (a stale engine cache?): run again with --no-cache"
            ) from None
        self._tables[tech_prefix] = (engine, table)
        return table


def text_categories(
    con: duckdb.DuckDBPyConnection, tech_prefixes: Sequence[str]
) -> tuple[list[str], list[str]]:
    """Every prefix and destination the decks of ``tech_prefixes`` ever held, sorted."""
    query = read_sql("queries/lpm_text_categories.sql")
    ((prefixes, destinations),) = con.execute(
        query, {"tech_prefixes": list(tech_prefixes)}
    ).fetchall()
    return list(prefixes), list(destinations)


def check_call_columns(calls: pl.DataFrame) -> None:
    missing = [c for c in CALL_COLUMNS if c not in calls.columns]
    if missing:
        raise CallsInputError(
            f"calls need columns {', '.join(CALL_COLUMNS)} (and optionally started_at); "
            f"missing: {', '.join(missing)}"
        )
    clash = [c for c in OUTPUT_COLUMNS if c in calls.columns]
    if clash:
        raise CallsInputError(
            f"input column {clash[0]!r} clashes with an output column: rename it first"
        )


def interleave(calls: pl.DataFrame, rated: list[pl.DataFrame]) -> pl.DataFrame:
    """Input columns + rate columns; rows call by call, tech prefixes in order within."""
    per_tech_prefix = [
        pl.concat([calls, r.select(OUTPUT_COLUMNS)], how="horizontal") for r in rated
    ]
    if len(per_tech_prefix) == 1:
        return per_tech_prefix[0]
    stacked = pl.concat(per_tech_prefix, rechunk=False)
    n, k = len(calls), len(rated)
    order = (np.arange(n)[:, None] + np.arange(k)[None, :] * n).ravel()
    return stacked[order]


# -- validating call columns ----------------------------------------------------------------
@dataclass(frozen=True)
class StartTimes:
    values: np.ndarray  # int64 epoch microseconds (UTC); meaningless where mask
    mask: np.ndarray  # True where there is no start time (cost at now)


def parse_durations(column: pl.Series) -> tuple[np.ndarray, pl.Series]:
    """Whole seconds from 0 to ``MAX_CALL_SECONDS`` as int64 (0 where bad), and a reason per
    bad value (else null)."""
    name = "duration"
    too_large = f"duration {{}} {TOO_LARGE}"
    if column.dtype.is_integer():
        if column.dtype not in (pl.UInt64, pl.Int128):  # exact in int64, and the limit fits
            column = column.cast(pl.Int64)
        reason = (
            pl.select(
                pl.when(column.is_null())
                .then(pl.lit("no duration"))
                .when(column < 0)
                .then(pl.format("negative duration {}", column))
                .when(column > MAX_CALL_SECONDS)
                .then(pl.format(too_large, column))
            )
            .to_series()
            .alias(name)
        )
        # strict=False: a UInt64 beyond int64 (too large: refused above) becomes null
        values = column.cast(pl.Int64, strict=False).fill_null(0)
        return values.clip(0, MAX_CALL_SECONDS).to_numpy(), reason
    if column.dtype.is_float():
        values = column.cast(pl.Float64)  # float input: only whole values are accepted
        whole_value = values.is_finite() & (values == values.floor()) & (values <= MAX_CALL_SECONDS)
        reason = (
            pl.select(
                pl.when(values.is_null() | values.is_nan())
                .then(pl.lit("no duration"))
                .when(values < 0)
                .then(pl.format("negative duration {}", values))
                .when(values > MAX_CALL_SECONDS)
                .then(pl.format(too_large, values))
                .when(~whole_value)
                .then(pl.format("duration {} is not a whole number of seconds", values))
            )
            .to_series()
            .alias(name)
        )
        good = reason.is_null()
        return np.where(good.to_numpy(), values.fill_nan(0).fill_null(0).to_numpy(), 0).astype(
            np.int64
        ), reason
    plain = _plain_durations(column) if column.dtype == pl.String else None
    if plain is not None:
        return plain
    text = column.cast(pl.String).str.strip_chars()
    digits = text.str.extract(r"^\+?0*([0-9]+)(?:\.0*)?$", 1)  # whole, no leading zeros
    seconds = digits.cast(pl.UInt64, strict=False)  # null beyond 2**64: too large as well
    whole = pl.select(pl.when(seconds <= MAX_CALL_SECONDS).then(seconds)).to_series()
    number = text.cast(pl.Float64, strict=False)  # only to word the reason, never for money
    reason = (
        pl.select(
            pl.when(whole.is_not_null())
            .then(None)
            .when(text.is_null() | (text == ""))
            .then(pl.lit("no duration"))
            .when(digits.is_not_null() | (number > MAX_CALL_SECONDS))
            .then(pl.format(too_large, text))
            .when(number < 0)
            .then(pl.format("negative duration {}", text))
            .when(number.is_not_null() & number.is_finite())
            .then(pl.format("duration {} is not a whole number of seconds", text))
            .otherwise(pl.format("bad duration {}", text))
        )
        .to_series()
        .alias(name)
    )
    return whole.cast(pl.Int64).fill_null(0).to_numpy(), reason


def _plain_durations(text: pl.Series) -> tuple[np.ndarray, pl.Series] | None:
    """The common case in one cast, no regex: every value is digits (``+`` allowed) up to
    ``MAX_CALL_SECONDS``; ``None`` otherwise (the general parser then words a reason per bad
    value)."""
    values = text.cast(pl.UInt64, strict=False)  # null unless [+]digits below 2**64
    if values.null_count() or (len(text) and cast(int, values.max()) > MAX_CALL_SECONDS):
        return None
    no_reason = pl.repeat(None, len(text), dtype=pl.String, eager=True).alias("duration")
    return values.cast(pl.Int64).to_numpy(), no_reason


def parse_start_times(column: pl.Series) -> tuple[StartTimes, pl.Series]:
    """Epoch microseconds (UTC; a time without zone is UTC), the missing ones, and a reason
    per unreadable value. Text: ISO 8601 dates and times (``2026-11-05 12:00``,
    ``2026-11-05T12:00:00.5+01:00``, ``...Z``)."""
    if column.dtype == pl.Date or isinstance(column.dtype, pl.Datetime):
        parsed = column.cast(pl.Datetime("us")) if column.dtype == pl.Date else column
        reason = pl.Series("started_at", [None] * len(column), pl.String)
    else:
        text = column.cast(pl.String).str.strip_chars()
        text = text.str.replace(r"[Zz]$", "+00:00")
        parsed = pl.Series("started_at", [None] * len(text), pl.Datetime("us", "UTC"))
        for form in _TIMESTAMP_FORMATS:
            todo = parsed.is_null() & text.is_not_null() & (text != "")
            if not todo.any():
                break
            attempt = text.str.to_datetime(form, time_zone="UTC", strict=False, time_unit="us")
            parsed = parsed.fill_null(attempt)
        unreadable = parsed.is_null() & text.is_not_null() & (text != "")
        reason = (
            pl.select(pl.when(unreadable).then(pl.format("bad started_at {}", text)))
            .to_series()
            .alias("started_at")
        )
    if isinstance(parsed.dtype, pl.Datetime) and parsed.dtype.time_zone is not None:
        parsed = parsed.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    micros = parsed.dt.cast_time_unit("us").cast(pl.Int64)
    reason = _out_of_range_reasons(column, micros, reason)
    return StartTimes(micros.fill_null(0).to_numpy(), micros.is_null().to_numpy()), reason


def _out_of_range_reasons(column: pl.Series, micros: pl.Series, reason: pl.Series) -> pl.Series:
    """``reason``, plus one for each start time outside ``clock.MOMENT_RANGE``: polars reads
    ``0001-01-01T00:00:00+05:00`` (year 0 in UTC), which no Python datetime holds."""
    outside = ~micros.is_between(*_MOMENT_RANGE_US)  # null where there is no time
    if not outside.any():  # the common case: one pass, no string work
        return reason
    text = column.cast(pl.String)
    out_of_range = f"is out of range: moments from {MOMENT_RANGE} are supported"
    return (
        pl.select(
            pl.when(outside)
            .then(pl.format(f"started_at {{}} {out_of_range}", text))
            .otherwise(reason)
        )
        .to_series()
        .alias("started_at")
    )


def _number_reasons(raw: pl.Series, numbers: ParsedNumbers) -> pl.Series | None:
    if numbers.fixed_problems.null_count() == len(numbers.fixed_problems):
        return None  # every number is good
    problems, text = numbers.problems, raw.cast(pl.String)
    return pl.select(
        pl.when(problems.is_null())
        .then(None)
        .when(text.is_null())
        .then(pl.lit("no number"))
        .otherwise(pl.format("bad number '{}': {}", text, problems))
    ).to_series()


def _combine_reasons(*reasons: pl.Series | None) -> pl.Series | None:
    """The reasons of each row joined with ``; `` (null for a good row); ``None`` when every
    row is good (the common case, spared the string work)."""
    present = [
        r.alias(f"r{i}") for i, r in enumerate(reasons) if r is not None and r.null_count() < len(r)
    ]
    if not present:
        return None
    joined = pl.concat_str(present, separator="; ", ignore_nulls=True)
    return pl.select(pl.when(joined != "").then(joined).alias("reason")).to_series()


def _bad_rows(
    calls: pl.DataFrame, bad: np.ndarray, reasons: pl.Series, first_row: int
) -> pl.DataFrame:
    index = np.flatnonzero(bad)
    rows = calls[index].select(pl.all().cast(pl.String))
    return rows.select(
        pl.Series("row", index + first_row, dtype=pl.Int64),
        pl.all(),
        reasons.gather(index).alias("reason"),
    )


def _no_bad_rows(calls: pl.DataFrame) -> pl.DataFrame:
    schema = {"row": pl.Int64, **dict.fromkeys(calls.columns, pl.String), "reason": pl.String}
    return pl.DataFrame(schema=schema)


def from_epoch_us(micros: int) -> datetime:
    """Epoch microseconds within ``_MOMENT_RANGE_US`` (what ``check_calls`` lets through)."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
