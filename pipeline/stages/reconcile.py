"""Reconciliation with the carrier: its call export imported like a CDR file (landing zone,
immutable, sha256; pure ingest; one-transaction load), and the comparisons the email and the
asset check read. No Dagster here: ``defs/cdr.py`` and the CLI wrap it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

import duckdb

from pipeline.errors import InputError
from pipeline.ingest.carrier import SOURCE_FORMAT, CarrierColumnNames, ingest_carrier
from pipeline.settings import Settings
from pipeline.stages import feed as stages
from pipeline.stages.cdr import (
    PREVIEWED_REJECTS,
    CdrImport,
    import_outcome,
    land,
    read_call_file,
)
from pipeline.stages.staging import stage_ingest
from pipeline.warehouse.cdr import first_rejects
from pipeline.warehouse.db import DEFAULT_LOCK_TIMEOUT_S, Warehouse
from pipeline.warehouse.reconcile import (
    CARRIER_SNAPSHOT,
    ReconcileDay,
    carrier_file_days,
    reconcile_days,
    record_reconcile_setting,
)
from pipeline.warehouse.snapshot import load_snapshot


def import_carrier_file(
    settings: Settings,
    path: Path,
    *,
    now: datetime | None = None,
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
) -> CdrImport:
    """Land, ingest and load one carrier export (columns: ``[reconcile.columns]``). Raises
    InputError (one line, naming the file and row) for a file that cannot be read or has more
    bad rows than ``cdr.max_reject_fraction``."""
    data = read_call_file(path)
    Warehouse(settings).refuse_newer()  # before landing a copy the warehouse will not take
    landed = land(settings, data, ext="csv", now=now, source=SOURCE_FORMAT)
    columns = CarrierColumnNames(**settings.reconcile.columns.model_dump())
    try:
        # report.currency: the account's, in which our decks (voice_rate.currency) and so
        # our costs are priced; the reconciliation subtracts the carrier's money from them
        result = ingest_carrier(
            data, source=landed.relative_path, columns=columns, currency=settings.report.currency
        )
        staged = stage_ingest(settings, landed, result, settings.cdr.max_reject_fraction)
    except InputError as exc:  # name the file as the user knows it (the message has the copy)
        raise type(exc)(f"{path}: {exc}") from None
    incoming = replace(stages.incoming(settings, staged), original_name=path.name)
    with Warehouse(settings, lock_timeout_s=lock_timeout_s).writer() as con:
        _record_settings(con, settings)
        loaded = load_snapshot(con, CARRIER_SNAPSHOT, incoming)
        days = carrier_file_days(con, loaded.snapshot_id)
        refused = first_rejects(con, CARRIER_SNAPSHOT.kind, loaded.snapshot_id, PREVIEWED_REJECTS)
    return import_outcome(path, loaded, days, refused, now=now)


def _record_settings(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Store the [reconcile] tolerances where the reconcile views read them."""
    reconcile = settings.reconcile
    record_reconcile_setting(con, reconcile.tolerance_pct, reconcile.match_tolerance_s)


@dataclass(frozen=True)
class DayCheck:
    """One day's balance spend against its costed calls, judged by the tolerance."""

    day: date
    reconciled: ReconcileDay | None  # None: no balance data and no costed calls that day

    @property
    def passed(self) -> bool:
        """Fails only on a day judged beyond tolerance; a day without balance data passes."""
        return self.reconciled is None or self.reconciled.within_tolerance is not False


def check_day(settings: Settings, day: date) -> DayCheck:
    """Balance vs own costs for one UTC day (with the current [reconcile] tolerance)."""
    with Warehouse(settings).writer() as con:
        _record_settings(con, settings)
        found = reconcile_days(con, day, day, settings.reconcile.tolerance_pct)
    return DayCheck(day, found[0] if found else None)
