"""Costing the customer's own calls with the one engine (``lookup.cost_calls``).

Each call is priced on the deck of its route (``rated_on``) as of its own start time, exactly
as ``ratedeck cost`` and the ``call_cost`` SQL macro price it. ``cost_routed_calls`` is the
only place CDR costing calls into the engine: a streaming engine slots in here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from pipeline.analytics.lookup import cost_calls, known_tech_prefixes
from pipeline.warehouse.migrate import read_sql

PRICED_VIEW = "cdr_priced"
VERSIONS_VIEW = "cdr_day_versions"  # named as such in pricing_connection's SQL
# the calls' own columns of a cdr_cost row (the engine adds the price columns)
CALL_COLUMNS = ("call_id", "call_day", "started_at", "tech_prefix", "rated_on", "number", "billsec")

PRICED_SCHEMA = pl.Schema(
    {
        "call_id": pl.String(),
        "matched_prefix": pl.String(),
        "destination": pl.String(),
        "price": pl.Decimal(18, 8),
        "billed_seconds": pl.Int64(),
        "cost": pl.Decimal(18, 8),
    }
)


def cost_routed_calls(
    con: duckdb.DuckDBPyConnection, calls: pl.DataFrame, *, cost_decimals: int
) -> pl.DataFrame:
    """``calls`` (``call_id``, ``number``, ``billsec``, ``started_at`` UTC, ``rated_on``) ->
    one row per call (``PRICED_SCHEMA``); a call whose route has no deck, or whose number no
    prefix matched at its start, has null match columns and cost."""
    decks = set(known_tech_prefixes(con))
    priced = [
        _cost_on(con, group, route, cost_decimals)
        for (route,), group in calls.group_by("rated_on", maintain_order=True)
        if route in decks
    ]
    costed = pl.concat(priced) if priced else pl.DataFrame(schema=PRICED_SCHEMA)
    missing = calls.select("call_id").join(costed, on="call_id", how="anti")
    return pl.concat([costed, missing.with_columns(_nulls())], how="diagonal").select(
        list(PRICED_SCHEMA)
    )


def pricing_connection(versions: pl.DataFrame) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose ``voice_rate`` holds ``versions`` (rows of voice_rate), with
    the LPM macros: all that costing calls made while those versions were in force reads, so
    a day is costed without holding the warehouse file open. Close it after use."""
    con = duckdb.connect()
    try:
        con.register(VERSIONS_VIEW, versions.to_arrow())
        con.execute("CREATE TABLE voice_rate AS SELECT * FROM cdr_day_versions")
        con.unregister(VERSIONS_VIEW)
        # what the engine (lpm_versions, voice_history_start.sql) and cdr_cost_rows.sql use
        con.execute(read_sql("macros/000_exact.sql"))
        con.execute(read_sql("macros/100_lpm.sql"))
    except BaseException:
        con.close()
        raise
    return con


def cost_rows(
    con: duckdb.DuckDBPyConnection, calls: pl.DataFrame, *, cost_decimals: int
) -> pl.DataFrame:
    """Price ``calls`` (``cdr_day_calls.sql``'s columns) on ``con``'s rate versions: their
    cdr_cost rows (``cdr_cost_rows.sql``: the version used; no costed_at, costing_run)."""
    priced = cost_routed_calls(con, calls, cost_decimals=cost_decimals)
    rows = calls.select(CALL_COLUMNS).join(priced, on="call_id")
    con.register(PRICED_VIEW, rows.to_arrow())
    try:
        frame: pl.DataFrame = con.sql(read_sql("queries/cdr_cost_rows.sql")).pl()
    finally:
        con.unregister(PRICED_VIEW)
    return frame


def _cost_on(
    con: duckdb.DuckDBPyConnection, calls: pl.DataFrame, route: str, cost_decimals: int
) -> pl.DataFrame:
    frame = calls.select("call_id", "number", pl.col("billsec").alias("duration"), "started_at")
    result = cost_calls(con, frame, tech_prefixes=[route], cost_decimals=cost_decimals)
    # ingest stored only good numbers and times: a bad row here would be a lost call
    if result.bad_rows.height:
        first = result.bad_rows.row(0, named=True)
        raise ValueError(f"call {first['call_id']}: cannot be costed: {first['reason']}")
    return result.frame.select(
        "call_id",
        pl.col("matched_prefix").cast(pl.String),
        pl.col("destination").cast(pl.String),
        pl.col("price").cast(pl.Decimal(18, 8)),
        pl.col("billed_seconds").cast(pl.Int64),
        pl.col("cost").cast(pl.Decimal(18, 8)),
    )


def _nulls() -> list[pl.Expr]:
    return [
        pl.lit(None, dtype).alias(name)
        for name, dtype in PRICED_SCHEMA.items()
        if name != "call_id"
    ]


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


def derived_traffic_profile(con: duckdb.DuckDBPyConnection, days: int) -> DerivedProfile | None:
    """Minutes per month per number and route from the last ``days`` costed days (ending with
    the latest costed day); None before any call is costed."""
    try:
        window = con.sql(read_sql("queries/cdr_profile_window.sql"), params={"days": days})
        found = window.fetchall()
    except duckdb.CatalogException:  # a warehouse from before the CDR feed
        return None
    if not found:
        return None
    window_start, last_day, covered_days, calls = found[0]
    params = {"window_start": window_start, "last_day": last_day, "covered_days": covered_days}
    frame = con.sql(read_sql("queries/cdr_traffic_profile.sql"), params=params).pl()
    return DerivedProfile(frame, window_start, last_day, covered_days, calls)
