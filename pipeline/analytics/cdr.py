"""Costing the customer's own calls with the one engine (``costing.CallCoster``).

Each call is priced on the deck of its route (``rated_on``) as of its own start time, exactly
as ``ratedeck cost`` and the ``call_cost`` SQL macro price it; the version columns of its
cdr_cost row (increments, currency, valid_from) are those of the deck row the engine rated it
on. ``cost_rows`` is the only place CDR costing calls into the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from pipeline.analytics.costing import CallCoster
from pipeline.analytics.lookup import known_tech_prefixes
from pipeline.warehouse.cdr import count_days_of_older_warehouse
from pipeline.warehouse.migrate import read_sql

VERSIONS_VIEW = "cdr_day_versions"  # named as such in pricing_connection's SQL
# the calls' own columns of a cdr_cost row (cdr_day_calls.sql's)
CALL_COLUMNS = ("call_id", "call_day", "started_at", "tech_prefix", "rated_on", "number", "billsec")
# what the engine adds: the rate columns, and from the version it rated the call on
PRICE_SCHEMA = pl.Schema(
    {
        "matched_prefix": pl.String(),
        "destination": pl.String(),
        "price": pl.Decimal(18, 8),
        "initial_seconds": pl.Int32(),
        "increment_seconds": pl.Int32(),
        "billed_seconds": pl.Int64(),
        "cost": pl.Decimal(18, 8),
        "currency": pl.String(),
        "rate_valid_from": pl.Datetime("us", "UTC"),  # given the calls' own time zone
    }
)
_VERSION_COLUMNS = {
    "initial_seconds": "initial_seconds",
    "increment_seconds": "increment_seconds",
    "currency": "currency",
    "valid_from": "rate_valid_from",
}
_ORDER = "__order"


def pricing_connection(versions: pl.DataFrame) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose ``voice_rate`` holds ``versions`` (rows of voice_rate), with
    the LPM macros: all that costing calls made while those versions were in force reads, so
    a day is costed without holding the warehouse file open. Close it after use."""
    con = duckdb.connect()
    try:
        con.register(VERSIONS_VIEW, versions.to_arrow())
        con.execute("CREATE TABLE voice_rate AS SELECT * FROM cdr_day_versions")
        con.unregister(VERSIONS_VIEW)
        con.execute(read_sql("queries/cdr_pricing_decks_only.sql"))
        # what the engine reads (lpm_versions, voice_history_start.sql)
        con.execute(read_sql("macros/000_exact.sql"))
        con.execute(read_sql("macros/050_voice_deck.sql"))
        con.execute(read_sql("macros/100_lpm.sql"))
    except BaseException:
        con.close()
        raise
    return con


def cost_rows(
    con: duckdb.DuckDBPyConnection, calls: pl.DataFrame, *, cost_decimals: int
) -> pl.DataFrame:
    """Price ``calls`` (``cdr_day_calls.sql``'s columns) on ``con``'s rate versions: their
    cdr_cost rows, in the calls' order (``CALL_COLUMNS``, then ``PRICE_SCHEMA``; no
    costed_at, costing_run: the commit sets them). A call whose route has no deck, or whose
    number no prefix matched at its start, has null price columns."""
    decks = set(known_tech_prefixes(con))
    numbered = calls.select(CALL_COLUMNS).with_row_index(_ORDER)
    parts = [
        _priced_on(con, group, route, cost_decimals) if route in decks else _unpriced(group)
        for (route,), group in numbered.group_by("rated_on", maintain_order=True)
    ]
    if not parts:
        call_schema = calls.select(CALL_COLUMNS).schema
        return pl.DataFrame(schema={**call_schema, **_price_schema(call_schema["started_at"])})
    ordered = parts[0] if len(parts) == 1 else pl.concat(parts).sort(_ORDER)
    return ordered.drop(_ORDER)


def _priced_on(
    con: duckdb.DuckDBPyConnection, calls: pl.DataFrame, route: str, cost_decimals: int
) -> pl.DataFrame:
    """The calls of one route priced on its deck: the one place CDR costing calls the
    engine. The version columns come from the deck row the engine rated each call on."""
    frame = calls.select("call_id", "number", pl.col("billsec").alias("duration"), "started_at")
    coster = CallCoster(con, tech_prefixes=[route], cost_decimals=cost_decimals)
    batch = coster.cost_frame(frame)
    # ingest stored only good numbers and times: a bad row here would be a lost call
    if batch.bad_rows.height:
        first = batch.bad_rows.row(0, named=True)
        raise ValueError(f"call {first['call_id']}: cannot be costed: {first['reason']}")
    [rating] = batch.ratings
    version = rating.deck_columns(list(_VERSION_COLUMNS)).rename(_VERSION_COLUMNS)
    schema = _price_schema(calls.schema["started_at"])
    priced = pl.concat([batch.frame, version], how="horizontal").select(
        pl.col(name).cast(dtype) for name, dtype in schema.items()
    )
    return pl.concat([calls, priced], how="horizontal")


def _unpriced(calls: pl.DataFrame) -> pl.DataFrame:
    schema = _price_schema(calls.schema["started_at"])
    return calls.with_columns(pl.lit(None, dtype).alias(name) for name, dtype in schema.items())


def _price_schema(started_at: pl.DataType) -> dict[str, pl.DataType]:
    """``PRICE_SCHEMA`` with ``rate_valid_from`` in the type of the calls' start times."""
    return {**PRICE_SCHEMA, "rate_valid_from": started_at}


# -- the traffic profile the finance email prices changes on --------------------------------
@dataclass(frozen=True)
class DerivedProfile:
    """A traffic profile derived from costed calls (``frame``: diff.TRAFFIC_SCHEMA)."""

    frame: pl.DataFrame
    window_start: date
    last_day: date
    covered_days: int  # days of the window that have call records (the scaling divides by it)
    calls: int

    @property
    def description(self) -> str:
        return (
            f"{self.calls:,} costed call(s) of {self.window_start} to {self.last_day} "
            f"({self.covered_days} day(s), scaled to 30)"
        )


def derived_traffic_profile(
    con: duckdb.DuckDBPyConnection, days: int, *, today: date
) -> DerivedProfile | None:
    """Minutes per month per number and route from the last ``days`` costed days (ending with
    the latest costed day up to ``today``: a call dated later, from a clock running ahead,
    would move the window off the real days); None before any call is costed."""
    try:
        count_days_of_older_warehouse(con)
        params = {"days": days, "today": today}
        window = con.sql(read_sql("queries/cdr_profile_window.sql"), params=params)
        found = window.fetchall()
    except duckdb.CatalogException:  # a warehouse from before the CDR feed
        return None
    if not found:
        return None
    window_start, last_day, covered_days, calls = found[0]
    params = {"window_start": window_start, "last_day": last_day, "covered_days": covered_days}
    frame = con.sql(read_sql("queries/cdr_traffic_profile.sql"), params=params).pl()
    return DerivedProfile(frame, window_start, last_day, covered_days, calls)
