"""Balance stages: fetch /customer -> land -> normalise -> load -> low-balance alert."""

from __future__ import annotations

from datetime import datetime

from pipeline import clock
from pipeline.commpeak import CommPeakClient
from pipeline.ingest.balance import normalize_customer
from pipeline.landing import LandedFile, LandingZone
from pipeline.notify.balance_alert import AlertOutcome, check_low_balance
from pipeline.settings import Settings
from pipeline.warehouse.balance import BalanceLoad, load_balance_snapshot
from pipeline.warehouse.db import Warehouse


def fetch_customer(
    settings: Settings, client: CommPeakClient, *, now: datetime | None = None
) -> LandedFile:
    fetched_at = now or clock.utc_now()
    data = client.customer_raw()
    return LandingZone(settings.data_dir).store_bytes(
        "customer", "customer", data, ext="json", fetched_at=fetched_at
    )


def load_customer(settings: Settings, landed: LandedFile) -> BalanceLoad:
    record = normalize_customer(landed.read_bytes(), source=landed.relative_path)
    with Warehouse(settings).writer() as con:
        return load_balance_snapshot(
            con,
            fetched_at=landed.fetched_at,
            content_sha256=landed.sha256,
            raw_path=landed.relative_path,
            record=record,
        )


def alert_on_low_balance(settings: Settings) -> AlertOutcome:
    with Warehouse(settings).writer() as con:
        return check_low_balance(con, settings)
