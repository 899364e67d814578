"""SMS stages: fetch -> land -> normalise -> check -> load. Reuses the voice machinery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from pipeline.commpeak.client import CommPeakClient
from pipeline.ingest.frames import IngestResult
from pipeline.ingest.sms import normalize_sms_rates
from pipeline.ingest.voice import check_rejects
from pipeline.landing import LandedFile, LandingZone
from pipeline.settings import Settings, SmsChannel
from pipeline.stages.checks import CheckOutcome, no_duplicate_keys, prices_not_negative
from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.sms import SmsSnapshotLoad, load_sms_snapshot

SMS_KEYS = ["mcc", "mnc"]


@dataclass(frozen=True)
class NormalisedSmsRates:
    landed: LandedFile
    rows_path: Path
    rejects_path: Path
    row_count: int
    reject_count: int
    total_rows: int
    notes: tuple[str, ...]

    def result(self) -> IngestResult:
        return IngestResult(
            rows=pl.read_parquet(self.rows_path),
            rejects=pl.read_parquet(self.rejects_path),
            source_format="json",
            total_rows=self.total_rows,
            notes=list(self.notes),
        )


def channel_by_key(settings: Settings, key: str) -> SmsChannel:
    for channel in settings.sms.channels:
        if channel.key == key:
            return channel
    raise KeyError(key)


def fetch_sms_rates(
    settings: Settings, client: CommPeakClient, channel: SmsChannel, *, now: datetime | None = None
) -> LandedFile:
    fetched_at = now or datetime.now(UTC)
    data = client.sms_rates_raw(channel.username, channel.id)
    return LandingZone(settings.data_dir).store_bytes(
        "sms", channel.key, data, ext="json", fetched_at=fetched_at
    )


def normalise_sms_rates(settings: Settings, landed: LandedFile) -> NormalisedSmsRates:
    result = normalize_sms_rates(landed.read_bytes(), source=landed.relative_path)
    # the same refusal threshold as voice: a feed that is mostly garbage is not loaded
    check_rejects(result, settings.voice.max_reject_fraction, landed.relative_path)
    staging = settings.data_dir / "staging" / "sms" / landed.path.parent.name
    staging.mkdir(parents=True, exist_ok=True)
    rows_path = staging / f"{landed.path.stem}.rows.parquet"
    rejects_path = staging / f"{landed.path.stem}.rejects.parquet"
    result.rows.write_parquet(rows_path)
    result.rejects.write_parquet(rejects_path)
    return NormalisedSmsRates(
        landed=landed,
        rows_path=rows_path,
        rejects_path=rejects_path,
        row_count=result.rows.height,
        reject_count=result.rejects.height,
        total_rows=result.total_rows,
        notes=tuple(result.notes),
    )


def check_sms_rates(rates: NormalisedSmsRates) -> list[CheckOutcome]:
    rows = pl.read_parquet(rates.rows_path)
    # an empty SMS list is legitimate (a channel without rates): no non-empty check here
    return [no_duplicate_keys(rows, SMS_KEYS), prices_not_negative(rows, "rate")]


def load_sms_rates(settings: Settings, rates: NormalisedSmsRates) -> SmsSnapshotLoad:
    with Warehouse(settings).writer() as con:
        return load_sms_snapshot(
            con,
            channel=rates.landed.source,
            fetched_at=rates.landed.fetched_at,
            content_sha256=rates.landed.sha256,
            raw_path=rates.landed.relative_path,
            result=rates.result(),
        )
