"""Generic history (SCD2) for rate tables: voice_rate, sms_rate, any table with the same shape.

A history table holds one row per *version* of a keyed row within a scope (a tech prefix, an
SMS channel): the scope, key and value columns, optionally the carrier's effective date, and
the bookkeeping columns ``valid_from, valid_to, first_seen_at, first_snapshot_id,
closed_snapshot_id, withdrawn_at``. A version is valid on ``[valid_from, valid_to)``
(``valid_to`` NULL: open-ended).

``apply_snapshot`` reconciles one downloaded deck (a polars frame) with the stored history of one
scope, set-based in DuckDB (``sql/queries/history_*.sql``). Rules:

* Unchanged content adds nothing. A changed row closes its version at ``fetched_at`` and opens
  a new one from ``fetched_at``; a missing key closes; a new key opens.
* A key whose in-force row is missing but which has a future-dated row in the deck does NOT
  close at ``fetched_at``: the carrier lists only what it considers current (its deck day can
  roll over before UTC midnight), so the version in force continues until that row's date
  (the chain ends it there). A snapshot never unprices a key that it re-prices later, and a
  change already reported is not rewritten into ``removed`` + ``new``.
* With an effective column, a row is identified by (key, effective date). Per key the deck
  states the version in force at ``fetched_at`` (its latest effective date <= fetched_at, or
  the row without a date) and scheduled versions (effective date > fetched_at). The in-force
  version is compared by value only (a re-dated but identical price is no change). Scheduled
  versions are inserted with ``valid_from`` = their effective date; stored scheduled versions
  that the deck no longer carries, or carries with other values, are WITHDRAWN
  (``withdrawn_at`` = fetched_at, ``valid_to`` = ``valid_from``: an empty interval no as-of read
  can hit). Each key's remaining versions form a chain (``valid_to`` = next ``valid_from``), so a
  scheduled version becomes current by the clock alone.
* A changed in-force version starts at ``fetched_at`` even when its effective date is earlier:
  history before a fetch is never rewritten, so as-of reads (and the reports built on them) are
  reproducible and intervals never overlap. The carrier's date stays in the effective column.
* A key whose row the deck REFUSED (``refused``: the keys of the snapshot's rejects) and
  which the deck does not otherwise carry is not a removal: its stored versions are kept as
  they are (the version in force carried forward, a scheduled one not withdrawn), with no
  change row. A row ingest could not read says nothing about the carrier's price; closing it
  would report a false ``removed`` (never rewritten once emailed) and price its calls on a
  shorter prefix. ``HistoryStats.kept_refused`` counts the versions in force so carried.
* Snapshots of one scope must be applied in time order (an older one is refused).

The caller owns the transaction: run ``apply_snapshot`` inside ``transaction(con)`` together
with the snapshot row it belongs to.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import duckdb
import polars as pl

from pipeline.clock import as_utc
from pipeline.warehouse.errors import SnapshotLoadError
from pipeline.warehouse.migrate import read_sql

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
INCOMING_VIEW = "history_incoming"
REFUSED_VIEW = "history_refused"


@dataclass(frozen=True)
class HistorySpec:
    """Which columns of a history table scope, identify and describe a rate.

    ``HistorySpec("voice_rate", ("tech_prefix",), ("prefix",), (...), "effective_at")``.
    """

    table: str
    scope_columns: tuple[str, ...]
    key_columns: tuple[str, ...]
    value_columns: tuple[str, ...]
    effective_column: str | None = None

    def __post_init__(self) -> None:
        names = [self.table, *self.scope_columns, *self.key_columns, *self.value_columns]
        if self.effective_column is not None:
            names.append(self.effective_column)
        bad = [n for n in names if not isinstance(n, str) or not _IDENTIFIER.match(n)]
        if bad:
            raise ValueError(f"HistorySpec: not a plain SQL identifier: {bad[0]!r}")
        if not self.scope_columns or not self.key_columns or not self.value_columns:
            raise ValueError("HistorySpec: scope, key and value columns must not be empty")
        for name, cols in (("scope", self.scope_columns), ("key", self.key_columns)):
            if not isinstance(cols, tuple):
                raise ValueError(f"HistorySpec: {name}_columns must be a tuple")

    @property
    def frame_columns(self) -> tuple[str, ...]:
        """Columns apply_snapshot reads from the deck frame (others are ignored)."""
        eff = (self.effective_column,) if self.effective_column else ()
        return (*self.key_columns, *self.value_columns, *eff)


@dataclass(frozen=True)
class HistoryStats:
    """What one snapshot did to a history table."""

    opened: int  # versions inserted (new keys, changed rows, new scheduled versions)
    closed: int  # in-force versions ended at fetched_at (changed or gone)
    withdrawn: int  # scheduled versions taken back before they took effect
    unchanged: int  # stored versions the deck confirmed
    kept_refused: int = 0  # versions in force carried forward because their row was refused


@contextmanager
def transaction(
    con: duckdb.DuckDBPyConnection, *, rollback: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT, or ROLLBACK on any exception (then re-raised). ``rollback``: ROLLBACK
    at the end too (a dry run: everything done, nothing kept)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("ROLLBACK" if rollback else "COMMIT")


def apply_snapshot(
    con: duckdb.DuckDBPyConnection,
    spec: HistorySpec,
    scope: Mapping[str, object],
    frame: pl.DataFrame,
    *,
    snapshot_id: int,
    fetched_at: datetime,
    refused: pl.DataFrame | None = None,
) -> HistoryStats:
    """Reconcile ``frame`` (one full deck of ``scope``) with ``spec.table``; see module doc.

    ``refused``: the keys (``spec.key_columns``) of the deck's refused rows, kept in force.
    Runs in the caller's transaction. Raises SnapshotLoadError for a frame that cannot be
    history (missing column, NULL or duplicate key) or a snapshot older than the stored ones.
    """
    if set(scope) != set(spec.scope_columns):
        raise ValueError(f"scope must give exactly {spec.scope_columns}, got {tuple(scope)}")
    fetched_at = as_utc(fetched_at)
    deck, dedupe = _validated_deck(spec, frame)
    refused_keys = _refused_keys(spec, refused)
    has_refused = not refused_keys.is_empty()
    params = {
        "fetched_at": fetched_at,
        "snapshot_id": snapshot_id,
        **{f"scope_{i}": scope[col] for i, col in enumerate(spec.scope_columns)},
    }
    try:
        schedules = _stored_facts(con, spec, params) or _deck_schedules(spec, deck, fetched_at)
        con.register(INCOMING_VIEW, deck.to_arrow())
        if has_refused:
            con.register(REFUSED_VIEW, refused_keys.to_arrow())
        try:
            plan = _template(
                "history_plan.sql", spec, dedupe=dedupe, schedules=schedules, refused=has_refused
            )
            execute_named(con, plan, params)
            opened, closed, withdrawn, rechained, kept_refused = execute_named(
                con, read_sql("queries/history_plan_counts.sql"), params
            ).fetchall()[0]
            if closed or withdrawn or rechained:
                execute_named(con, _template("history_update.sql", spec), params)
            if opened:
                execute_named(con, _template("history_insert.sql", spec), params)
            con.execute("DROP TABLE history_plan")
        finally:
            con.unregister(INCOMING_VIEW)
            if has_refused:
                con.unregister(REFUSED_VIEW)
    except duckdb.Error as exc:
        raise SnapshotLoadError(
            f"{spec.table} {dict(scope)}: {first_line(exc)}; nothing was loaded"
        ) from exc
    # every effective deck row is either kept (unchanged) or opened
    unchanged = _effective_rows(spec, deck, fetched_at, dedupe) - opened
    return HistoryStats(
        opened=opened,
        closed=closed,
        withdrawn=withdrawn,
        unchanged=unchanged,
        kept_refused=kept_refused,
    )


def _refused_keys(spec: HistorySpec, refused: pl.DataFrame | None) -> pl.DataFrame:
    """Each refused key once (none: an empty frame)."""
    if refused is None or refused.is_empty():
        return pl.DataFrame()
    missing = [c for c in spec.key_columns if c not in refused.columns]
    if missing:
        raise SnapshotLoadError(f"{spec.table}: refused keys lack column(s) {', '.join(missing)}")
    return refused.select(spec.key_columns).drop_nulls().unique()


def _validated_deck(spec: HistorySpec, frame: pl.DataFrame) -> tuple[pl.DataFrame, bool]:
    """The deck's history columns, and whether some key carries several effective dates
    (then the in-force row of each key must be picked)."""
    missing = [c for c in spec.frame_columns if c not in frame.columns]
    if missing:
        raise SnapshotLoadError(f"{spec.table}: deck frame lacks column(s) {', '.join(missing)}")
    deck = frame.select(spec.frame_columns)
    for col in spec.key_columns:
        if deck[col].null_count():
            raise SnapshotLoadError(f"{spec.table}: deck has an empty {col} (key column)")
    if _distinct(deck, spec.key_columns) == deck.height:
        return deck, False  # the common case, checked cheaply: one row per key
    identity = (*spec.key_columns, *((spec.effective_column,) if spec.effective_column else ()))
    duplicated = deck.select(identity).is_duplicated()
    if duplicated.any():
        first = deck.filter(duplicated).row(0, named=True)
        shown = ", ".join(f"{c}={first[c]}" for c in identity)
        raise SnapshotLoadError(f"{spec.table}: deck has the same row twice ({shown})")
    return deck, True


def _distinct(frame: pl.DataFrame, columns: tuple[str, ...]) -> int:
    if len(columns) == 1:
        return frame[columns[0]].n_unique()
    return int(frame.select(pl.struct(columns).n_unique()).item())


def _effective_rows(
    spec: HistorySpec, deck: pl.DataFrame, fetched_at: datetime, dedupe: bool
) -> int:
    """Deck rows that state a version: all of them, unless a key carries several effective
    dates up to fetched_at (then only its latest one is in force)."""
    if not dedupe or spec.effective_column is None:
        return deck.height
    eff = pl.col(spec.effective_column)
    in_force = deck.filter(eff.is_null() | (eff <= fetched_at))
    return in_force.select(spec.key_columns).n_unique() + deck.filter(eff > fetched_at).height


def _stored_facts(
    con: duckdb.DuckDBPyConnection, spec: HistorySpec, params: dict[str, Any]
) -> bool:
    """Refuses a snapshot older than the scope's history; True if the scope has schedules."""
    sql = _template("history_latest_seen.sql", spec)
    is_older, latest, has_schedule = execute_named(con, sql, params).fetchall()[0]
    if is_older:
        raise SnapshotLoadError(
            f"{spec.table}: snapshot fetched at {params['fetched_at'].isoformat()} is older than "
            f"history already loaded (up to {latest}): load snapshots in time order"
        )
    return bool(has_schedule)


def _deck_schedules(spec: HistorySpec, deck: pl.DataFrame, fetched_at: datetime) -> bool:
    if spec.effective_column is None:
        return False
    return bool(deck.select((pl.col(spec.effective_column) > fetched_at).any()).item())


def execute_named(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]
) -> duckdb.DuckDBPyConnection:
    """``sql`` with the ``$name`` parameters it uses, taken from ``params`` (others ignored)."""
    used = set(_PARAM.findall(sql))
    return con.execute(sql, {k: v for k, v in params.items() if k in used})


def first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _q(name: str) -> str:
    return f'"{name}"'


@cache
def _template(
    name: str,
    spec: HistorySpec,
    *,
    dedupe: bool = False,
    schedules: bool = True,
    refused: bool = False,
) -> str:
    """A sql/queries/ template with the spec's (validated) identifiers filled in."""
    keys, values = spec.key_columns, spec.value_columns
    eff = spec.effective_column

    def cols(pattern: str, names: tuple[str, ...], sep: str = ", ") -> str:
        return sep.join(pattern.format(c=_q(n)) for n in names)

    parts = {
        "table": _q(spec.table),
        "scope_pred": " AND ".join(
            f"{_q(c)} = $scope_{i}" for i, c in enumerate(spec.scope_columns)
        ),
        "scope_cols": cols("{c}", spec.scope_columns),
        "scope_values": ", ".join(f"$scope_{i}" for i in range(len(spec.scope_columns))),
        "key_cols": cols("{c}", keys),
        "value_cols": cols("{c}", values),
        "key_coalesce": cols("coalesce(s.{c}, d.{c}) AS {c}", keys),
        "key_join": cols("s.{c} = d.{c}", keys, " AND "),
        # without schedules every slot is -infinity: joining on it would only cost time
        "slot_join": " AND s.slot = d.slot" if schedules else "",
        "deck_values": cols("d.{c} AS {c}", values),
        "values_same": cols("s.{c} IS NOT DISTINCT FROM d.{c}", values, " AND "),
        "incoming_eff": _q(eff) if eff else "CAST(NULL AS TIMESTAMPTZ)",
        "eff_col_list": f", {_q(eff)}" if eff else "",
        "eff_select": ", eff" if eff else "",
        "touched_from": (
            f"paired p LEFT JOIN scheduled_keys k USING ({cols('{c}', keys)})"
            if schedules
            else "paired p"
        ),
        "touched_also": f"OR k.{_q(keys[0])} IS NOT NULL" if schedules else "",
        "deck_announces": "coalesce(k.in_deck, false)" if schedules else "false",
        "new_valid_to": (
            "CASE WHEN active THEN lead(valid_from) OVER ("
            f"PARTITION BY {cols('{c}', keys)}, active ORDER BY valid_from) END"
            if schedules
            else "CAST(NULL AS TIMESTAMPTZ)"
        ),
        # without refused keys nothing is carried: joining on them would only cost time
        "refused_join": (
            f" LEFT JOIN {REFUSED_VIEW} r ON {cols('r.{c} = s.{c}', keys, ' AND ')}"
            if refused
            else ""
        ),
        "refused_expr": f"r.{_q(keys[0])} IS NOT NULL" if refused else "false",
        "deck_dedupe": (
            f"QUALIFY row_number() OVER (PARTITION BY {cols('{c}', keys)}, slot "
            "ORDER BY eff DESC NULLS LAST) = 1"
            if dedupe
            else ""
        ),
    }
    return read_sql(f"queries/{name}").format_map(parts)
