"""The SMS feed: a ``FeedSpec`` over the generic stages (``feed.py``), its fetch and ingest."""

from __future__ import annotations

from datetime import datetime

from pipeline import clock
from pipeline.commpeak import CommPeakClient
from pipeline.ingest.frames import IngestResult
from pipeline.ingest.sms import normalize_sms_rates
from pipeline.landing import LandedFile, LandingZone
from pipeline.settings import Settings, SmsChannel
from pipeline.stages.feed import FeedChecks, FeedSpec
from pipeline.warehouse.sms import SMS_SNAPSHOT


def channel_by_key(settings: Settings, key: str) -> SmsChannel:
    for channel in settings.sms.channels:
        if channel.key == key:
            return channel
    raise KeyError(key)


def fetch_sms_rates(
    settings: Settings, client: CommPeakClient, channel_key: str, *, now: datetime | None = None
) -> LandedFile:
    channel = channel_by_key(settings, channel_key)
    fetched_at = now or clock.utc_now()
    data = client.sms_rates_raw(channel.username, channel.id)
    return LandingZone(settings.data_dir).store_bytes(
        "sms", channel.key, data, ext="json", fetched_at=fetched_at
    )


def ingest_sms_rates(settings: Settings, landed: LandedFile) -> IngestResult:
    return normalize_sms_rates(landed.read_bytes(), source=landed.relative_path)


SMS = FeedSpec(
    snapshot=SMS_SNAPSHOT,
    checks=FeedChecks(
        keys=("mcc", "mnc"),
        duplicates="No MCC/MNC pair appears twice.",
        price_column="rate",
        require_rows=False,  # an empty SMS list is legitimate (a channel without rates)
    ),
    partition_keys=lambda settings: [channel.key for channel in settings.sms.channels],
    fetch=fetch_sms_rates,
    ingest=ingest_sms_rates,
)
