"""SMS stages: fetch -> land -> normalise -> check -> load. Reuses the voice machinery."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import polars as pl

from pipeline import clock
from pipeline.commpeak import CommPeakClient
from pipeline.ingest.sms import normalize_sms_rates
from pipeline.landing import LandedFile, LandingZone
from pipeline.settings import Settings, SmsChannel
from pipeline.stages.checks import CheckOutcome, no_duplicate_keys, prices_not_negative
from pipeline.stages.staging import StagedIngest, stage_ingest
from pipeline.warehouse.changes import snapshot_change_counts
from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.sms import SmsSnapshotLoad, load_sms_snapshot

SMS_KEYS = ["mcc", "mnc"]


# What the sms_rates asset hands to sms_rate_history.
NormalisedSmsRates = StagedIngest


def channel_by_key(settings: Settings, key: str) -> SmsChannel:
    for channel in settings.sms.channels:
        if channel.key == key:
            return channel
    raise KeyError(key)


def fetch_sms_rates(
    settings: Settings, client: CommPeakClient, channel: SmsChannel, *, now: datetime | None = None
) -> LandedFile:
    fetched_at = now or clock.utc_now()
    data = client.sms_rates_raw(channel.username, channel.id)
    return LandingZone(settings.data_dir).store_bytes(
        "sms", channel.key, data, ext="json", fetched_at=fetched_at
    )


def normalise_sms_rates(settings: Settings, landed: LandedFile) -> NormalisedSmsRates:
    result = normalize_sms_rates(landed.read_bytes(), source=landed.relative_path)
    # the same refusal threshold as voice (voice.max_reject_fraction) applies
    return stage_ingest(settings, landed, result)


def check_sms_rates(rows: pl.DataFrame) -> list[CheckOutcome]:
    # an empty SMS list is legitimate (a channel without rates): no non-empty check here
    return [no_duplicate_keys(rows, SMS_KEYS), prices_not_negative(rows, "rate")]


def load_sms_rates(settings: Settings, rates: NormalisedSmsRates) -> SmsSnapshotLoad:
    """Load the rates in one transaction; the outcome also counts the price changes."""
    with Warehouse(settings).writer() as con:
        loaded = load_sms_snapshot(
            con,
            channel=rates.landed.source,
            fetched_at=rates.landed.fetched_at,
            content_sha256=rates.landed.sha256,
            raw_path=rates.landed.relative_path,
            result=rates.result(),
        )
        if loaded.replayed:
            return loaded
        counts = snapshot_change_counts(con, "sms", loaded.channel, loaded.snapshot_id)
        return replace(loaded, changes=counts)
