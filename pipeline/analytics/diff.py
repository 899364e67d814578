"""Price changes between snapshots, with what they mean for the bill.

``sms_changes`` returns the rows of the ``sms_rate_change`` view plus ``known`` (was the
(mcc, mnc) pair in the MCC/MNC reference), ``mcc_country`` (an unknown pair's country, from its
MCC) and ``network_code`` ("272-01").

``voice_changes`` returns the rows of the ``voice_rate_change`` view plus:

* the longest-prefix effect: a removed prefix's numbers fall back to its parent (the longest
  shorter prefix valid right after the change); a new prefix re-prices part of its parent's
  range (the parent valid just before). ``effective_old_price``/``effective_new_price`` and
  ``effective_change_pct`` describe the range of numbers under ``prefix``;
* the cost of a reference call before and after (``old_call_cost``/``new_call_cost``), so a
  billing-increment change (1/1 -> 60/60) shows the increase it is for calls that are not
  whole minutes;
* with a traffic profile, the minutes routed through each changed range per month and the
  monthly cost impact (minutes x effective price delta, exact). Each traffic row runs on one
  route: the tech prefix it names, else the default route (the first configured tech prefix);
  a route that is an alias of another tech prefix's deck is that deck (the one rule,
  ``voice_deck_aliases()``, which ``lookup`` and ``cost`` apply too: ``one_call.deck_aliases``).
  So each minute counts once, never once per tech prefix.

All money stays exact (DuckDB DECIMAL -> polars Decimal -> Python Decimal).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipeline.analytics.one_call import deck_aliases
from pipeline.errors import InputError
from pipeline.ingest.phone import number_problem
from pipeline.settings import TECH_PREFIX_RE
from pipeline.warehouse.migrate import read_sql

MINUTES_DTYPE = pl.Decimal(18, 6)
TRAFFIC_SCHEMA = pl.Schema(
    {
        "line": pl.Int64(),  # line in the CSV file (the header is line 1)
        "tech_prefix": pl.String(),  # null: the traffic runs on the default route
        "key": pl.String(),  # a normalised number or prefix, digits only
        "minutes": MINUTES_DTYPE,
    }
)


def voice_changes(
    con: duckdb.DuckDBPyConnection,
    *,
    tech_prefix: str | None = None,
    since: datetime | None = None,
    reference_call_seconds: int = 180,
    cost_decimals: int = 6,
    unreported_only: bool = False,
    traffic: pl.DataFrame | None = None,
    default_route: str = "current",
) -> pl.DataFrame:
    """Voice price changes, oldest first, with LPM effect, reference-call cost and (given a
    ``traffic`` frame from :func:`read_traffic_profile`) ``monthly_minutes``/``monthly_impact``.
    ``default_route``: the tech prefix of traffic rows that name none.
    """
    if reference_call_seconds <= 0:
        raise InputError(f"reference call of {reference_call_seconds} s: must be > 0")
    if not 0 <= cost_decimals <= 8:
        raise InputError(f"cost_decimals {cost_decimals}: must be 0..8")
    params = {
        "tech_prefix": tech_prefix,
        "since": since,
        "unreported_only": unreported_only,
        "reference_seconds": reference_call_seconds,
        "cost_decimals": cost_decimals,
    }
    sql = read_sql("queries/report_voice_changes.sql")
    changes = _utc(con.sql(sql, params=params).pl())
    if traffic is not None:
        changes = with_traffic_impact(con, changes, traffic, default_route=default_route)
    return changes


class UnknownChannelError(InputError):
    """An SMS channel the warehouse has no rates for."""


def known_channels(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The SMS channels with rates in the warehouse, in order."""
    return [row[0] for row in con.execute(read_sql("queries/sms_channels.sql")).fetchall()]


def check_channel(con: duckdb.DuckDBPyConnection, channel: str) -> None:
    """Refuse a channel the warehouse has no rates for: "no price changes" would hide a
    mistyped channel, as it would a mistyped tech prefix."""
    channels = known_channels(con)
    if not channels:
        raise UnknownChannelError("the warehouse has no SMS rates yet: run `ratedeck run`")
    if channel not in channels:
        raise UnknownChannelError(
            f"no SMS rates for channel {channel!r} in the warehouse (it has: {', '.join(channels)})"
        )


def sms_changes(
    con: duckdb.DuckDBPyConnection,
    *,
    channel: str | None = None,
    since: datetime | None = None,
    unreported_only: bool = False,
) -> pl.DataFrame:
    """SMS rate changes, by channel and time, rates exact (Decimal(18, 8))."""
    params = {"channel": channel, "since": since, "unreported_only": unreported_only}
    return _utc(con.sql(read_sql("queries/report_sms_changes.sql"), params=params).pl())


def with_traffic_impact(
    con: duckdb.DuckDBPyConnection,
    changes: pl.DataFrame,
    traffic: pl.DataFrame,
    *,
    default_route: str = "current",
) -> pl.DataFrame:
    """``changes`` plus ``monthly_minutes`` (routed through each changed range, LPM) and
    ``monthly_impact`` (minutes x effective price delta; null when a side has no price).
    A traffic row counts on one tech prefix only: its own, else ``default_route`` (an alias:
    the deck it shares, ``routed_traffic``)."""
    if changes.is_empty():
        return changes.with_columns(
            pl.lit(None, MINUTES_DTYPE).alias("monthly_minutes"),
            pl.lit(None, pl.Decimal(38, 14)).alias("monthly_impact"),
        )
    inputs = changes.select(
        "change_id",
        "tech_prefix",
        "prefix",
        "change_type",
        "changed_at",
        "effective_old_price",
        "effective_new_price",
    )
    con.register("report_changes", inputs)
    con.register("report_traffic", routed_traffic(con, traffic, default_route))
    try:
        impact = con.sql(read_sql("queries/report_traffic_impact.sql")).pl()
    finally:
        con.unregister("report_changes")
        con.unregister("report_traffic")
    return changes.join(impact, on="change_id", how="left", maintain_order="left")


def routed_traffic(
    con: duckdb.DuckDBPyConnection, traffic: pl.DataFrame, default_route: str
) -> pl.DataFrame:
    """``traffic`` with each row's ``tech_prefix`` the deck that prices it: its own tech prefix,
    else ``default_route``; an alias on the deck it shares. The one alias rule, as ``lookup``
    and ``cost`` read it (``deck_aliases``), also on a file published before that rule's macro:
    no aliases there, for them as for the report, until the next run publishes."""
    route = pl.col("tech_prefix").fill_null(default_route)
    aliases = deck_aliases(con)
    return traffic.select(list(TRAFFIC_SCHEMA)).with_columns(route.replace(aliases))


def read_traffic_profile(
    path: str | Path, *, tech_prefixes: Sequence[str] | None = None
) -> pl.DataFrame:
    """Read a traffic profile CSV: ``number`` or ``prefix``, ``minutes_per_month``, optional
    ``tech_prefix`` (empty: the default route). Raises InputError naming the file and line for
    anything malformed, or for a tech prefix outside ``tech_prefixes`` (when given): its
    minutes would silently count nowhere."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = {c.strip().lower(): c for c in reader.fieldnames or []}
            key_columns = [columns[c] for c in ("number", "prefix") if c in columns]
            if not key_columns or "minutes_per_month" not in columns:
                raise InputError(
                    f"{path}: traffic profile needs a 'number' or 'prefix' column and "
                    "'minutes_per_month'"
                )
            rows = [
                _traffic_row(path, line, raw, key_columns, columns, tech_prefixes)
                for line, raw in enumerate(reader, start=2)
                if any((v or "").strip() for v in raw.values() if isinstance(v, str))
            ]
    except FileNotFoundError:
        raise InputError(f"{path}: traffic profile not found") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: traffic profile is not UTF-8 text") from None
    except csv.Error as exc:
        raise InputError(f"{path}: not a readable CSV file: {exc}") from None
    return pl.DataFrame(rows, schema=TRAFFIC_SCHEMA, orient="row")


def _traffic_row(
    path: Path,
    line: int,
    raw: dict[str | None, Any],
    key_columns: list[str],
    columns: dict[str, str],
    tech_prefixes: Sequence[str] | None,
) -> tuple[int, str | None, str, Decimal]:
    where = f"{path}: line {line}"
    if None in raw:
        raise InputError(f"{where}: more fields than the header")
    key_text = next((raw[c].strip() for c in key_columns if (raw[c] or "").strip()), "")
    key, problem = number_problem(key_text)
    if key is None:
        raise InputError(f"{where}: number/prefix {key_text!r}: {problem}")
    minutes_text = (raw[columns["minutes_per_month"]] or "").strip()
    try:
        minutes = Decimal(minutes_text)
    except InvalidOperation:
        raise InputError(f"{where}: minutes_per_month {minutes_text!r}: not a number") from None
    if not minutes.is_finite() or minutes < 0:
        raise InputError(f"{where}: minutes_per_month {minutes_text!r}: must be >= 0")
    exponent = minutes.as_tuple().exponent
    assert isinstance(exponent, int)  # never 'n', 'N' or 'F': minutes is finite
    if exponent < -6 or minutes >= Decimal(10) ** 12:
        raise InputError(
            f"{where}: minutes_per_month {minutes_text!r}: at most 6 decimals and < 10^12"
        )
    tech_prefix = None
    if "tech_prefix" in columns:
        tech_prefix = (raw[columns["tech_prefix"]] or "").strip() or None
    _check_route(where, tech_prefix, tech_prefixes)
    return line, tech_prefix, key, minutes


def _check_route(where: str, tech_prefix: str | None, tech_prefixes: Sequence[str] | None) -> None:
    if tech_prefix is None:
        return
    if not TECH_PREFIX_RE.fullmatch(tech_prefix):
        raise InputError(f"{where}: tech_prefix {tech_prefix!r}: must be 'current' or digits")
    if tech_prefixes is not None and tech_prefix not in tech_prefixes:
        raise InputError(
            f"{where}: tech_prefix {tech_prefix!r} is not in voice.tech_prefixes "
            f"{list(tech_prefixes)}"
        )


def _utc(frame: pl.DataFrame) -> pl.DataFrame:
    """DuckDB hands TIMESTAMPTZ over in the session time zone; the contract is UTC."""
    return frame.with_columns(
        pl.col(name).dt.convert_time_zone("UTC")
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    )
