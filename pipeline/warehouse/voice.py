"""The voice feed in the warehouse: its ``SnapshotSpec`` (loaded by ``snapshot.py``, like every
feed), the account-currency fill only voice decks need, and small reads the pipeline needs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb
import polars as pl

from pipeline.clock import as_utc
from pipeline.warehouse.history import HistorySpec
from pipeline.warehouse.migrate import read_sql
from pipeline.warehouse.snapshot import (
    IncomingSnapshot,
    SnapshotLoad,
    SnapshotSpec,
    load_snapshot,
)

VOICE_RATE_SPEC = HistorySpec(
    table="voice_rate",
    scope_columns=("tech_prefix",),
    key_columns=("prefix",),
    value_columns=("destination", "price", "initial_seconds", "increment_seconds", "currency"),
    effective_column="effective_at",
)


def fill_account_currency(
    con: duckdb.DuckDBPyConnection, incoming: IncomingSnapshot
) -> pl.DataFrame:
    """The voice feed's prepare hook: the account's currency (``report.currency``) is the
    currency of every row whose deck names none; stored versions of the tech prefix without
    one get it too (see ``_fill_stored_currency``)."""
    currency = incoming.account_currency
    if currency is None:
        return incoming.result.rows
    _fill_stored_currency(con, incoming.source, currency)
    return incoming.result.rows.with_columns(pl.col("currency").fill_null(currency))


VOICE_SNAPSHOT = SnapshotSpec(
    kind="voice",
    noun="voice deck",
    history=VOICE_RATE_SPEC,
    prepare=fill_account_currency,
)


def load_voice_snapshot(
    con: duckdb.DuckDBPyConnection,
    *,
    tech_prefix: str,
    default_currency: str | None = None,
    **at: Any,
) -> SnapshotLoad:
    """``load_snapshot`` of one voice deck; ``at``: fetched_at, content_sha256, raw_path, result."""
    incoming = IncomingSnapshot(source=tech_prefix, account_currency=default_currency, **at)
    return load_snapshot(con, VOICE_SNAPSHOT, incoming)


def deck_at(con: duckdb.DuckDBPyConnection, tech_prefix: str, at: datetime) -> pl.DataFrame:
    """The deck of ``tech_prefix`` as it stood (or is scheduled to stand) at ``at``.

    Columns: prefix, destination, price, initial_seconds, increment_seconds, currency,
    effective_at, valid_from, valid_to; sorted by prefix.
    """
    deck: pl.DataFrame = con.sql(
        read_sql("queries/voice_deck_at.sql"), params=[as_utc(at), tech_prefix]
    ).pl()
    return deck


def _fill_stored_currency(con: duckdb.DuckDBPyConnection, tech_prefix: str, currency: str) -> None:
    """Give the tech prefix's stored versions without a currency the account's currency.

    They were loaded before the loader filled it in: their decks named no currency, so they
    were priced in the account's currency all along (the email always labelled them with it).
    Only NULL is filled, no price or date moves; without it every row would look changed
    (NULL -> USD) and be re-versioned by the first load after the upgrade.
    """
    con.execute(read_sql("queries/voice_currency_fill.sql"), [currency, tech_prefix])
