"""Voice stages: download -> land -> normalise -> check -> load. No Dagster here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime

import polars as pl

from pipeline import clock
from pipeline.commpeak import CommPeakClient, InvalidRequestError
from pipeline.ingest.limits import IngestLimits
from pipeline.ingest.voice import normalize_voice_deck
from pipeline.landing import LandedFile, LandingZone
from pipeline.settings import Settings, validate_tech_prefix
from pipeline.stages.checks import CheckOutcome, deck_checks
from pipeline.stages.staging import StagedIngest, stage_ingest
from pipeline.warehouse.changes import snapshot_change_counts
from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.migrate import read_sql
from pipeline.warehouse.report_setting import record_report_setting
from pipeline.warehouse.voice import SnapshotLoad, load_voice_snapshot, previous_row_count

DECK_KEYS = ["prefix", "effective_at"]


# What the voice_deck asset hands to voice_rate_history.
NormalisedDeck = StagedIngest


def fetch_voice_deck(
    settings: Settings, client: CommPeakClient, tech_prefix: str, *, now: datetime | None = None
) -> LandedFile:
    zone = LandingZone(settings.data_dir)
    fetched_at = now or clock.utc_now()
    staged = zone.staging_file("voice", tech_prefix)
    try:
        download = client.download_rates(tech_prefix, staged, fmt=settings.voice.format)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    return zone.store_file(
        "voice",
        tech_prefix,
        staged,
        ext=settings.voice.format,
        fetched_at=fetched_at,
        sha256=download.sha256,
    )


def fetch_voice_decks(
    settings: Settings,
    client_factory: Callable[[], CommPeakClient],
    tech_prefixes: Sequence[str] | None = None,
    concurrency: int | None = None,
) -> dict[str, LandedFile]:
    """Download and land several decks at once, at most ``concurrency`` (default
    ``settings.api.concurrency``) in flight; one client per download (a requests session is
    not shared between threads). Raises the first failure once every download has ended."""
    tech_prefixes = list(settings.voice.tech_prefixes if tech_prefixes is None else tech_prefixes)
    for tech_prefix in tech_prefixes:  # all checked before any request is made
        try:
            validate_tech_prefix(tech_prefix)
        except ValueError as exc:
            raise InvalidRequestError(f"voice decks: {exc}") from None
    workers = max(1, min(concurrency or settings.api.concurrency, len(tech_prefixes) or 1))

    def fetch(tech_prefix: str) -> LandedFile:
        with client_factory() as client:
            return fetch_voice_deck(settings, client, tech_prefix)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="voice-fetch") as pool:
        futures = {tp: pool.submit(fetch, tp) for tp in tech_prefixes}
    errors = [error for f in futures.values() if (error := f.exception()) is not None]
    if errors:
        raise errors[0]
    return {tp: future.result() for tp, future in futures.items()}


def normalise_voice_deck(settings: Settings, landed: LandedFile) -> NormalisedDeck:
    result = normalize_voice_deck(
        landed.read_bytes(),
        source=landed.relative_path,
        default_increments=settings.voice.default_increments,
        fetched_at=landed.fetched_at,
        limits=IngestLimits(
            max_inflated_bytes=settings.voice.max_inflated_bytes,
            timeout_s=settings.voice.ingest_timeout_s,
        ),
    )
    return stage_ingest(settings, landed, result)


def published_previous_row_count(settings: Settings, tech_prefix: str) -> int | None:
    wh = Warehouse(settings)
    if not wh.published_path.exists():
        return None
    with wh.reader() as con:
        return previous_row_count(con, tech_prefix)


def check_voice_deck(
    settings: Settings, tech_prefix: str, rows: pl.DataFrame
) -> list[CheckOutcome]:
    """The blocking checks on a normalised deck (the rows as staged)."""
    return deck_checks(
        rows,
        previous_rows=published_previous_row_count(settings, tech_prefix),
        max_drop_fraction=settings.voice.max_row_drop_fraction,
        keys=DECK_KEYS,
    )


@dataclass(frozen=True)
class DeckAlias:
    """A download that served the very deck another tech prefix holds: recorded, not loaded."""

    tech_prefix: str
    same_as: str
    snapshot_id: int  # same_as's snapshot of these bytes
    fetched_at: datetime
    content_sha256: str
    raw_path: str

    @property
    def note(self) -> str:
        return (
            f"same deck as {self.same_as} (sha256 {self.content_sha256[:16]}): "
            f"loaded once, as {self.same_as}"
        )


def load_voice_deck(settings: Settings, deck: NormalisedDeck) -> SnapshotLoad | DeckAlias:
    """Load the deck in one transaction; the outcome also counts the price changes it brought.
    A deck byte-identical to another tech prefix's latest one (``current`` and the default
    tech prefix) is recorded as an alias instead of being loaded a second time."""
    with Warehouse(settings).writer() as con:
        alias = record_alias(con, deck.landed)
        if alias is not None:
            return alias
        loaded = load_voice_snapshot(
            con,
            tech_prefix=deck.landed.source,
            fetched_at=deck.landed.fetched_at,
            content_sha256=deck.landed.sha256,
            raw_path=deck.landed.relative_path,
            result=deck.result(),
            default_currency=settings.report.currency,
        )
        record_report_setting(con, settings.report)  # voice_rate_change judges like the email
        if loaded.replayed:
            return loaded
        counts = snapshot_change_counts(con, "voice", loaded.tech_prefix, loaded.snapshot_id)
        return replace(loaded, changes=counts)


def record_alias(con, landed: LandedFile) -> DeckAlias | None:
    """Same bytes as another tech prefix's latest snapshot, and no history of its own: the same
    deck under two names. Recorded in ``voice_deck_alias``; None when it is a deck of its own."""
    found = con.execute(
        read_sql("queries/voice_deck_alias_find.sql"),
        {"tech_prefix": landed.source, "content_sha256": landed.sha256},
    ).fetchall()
    if not found:
        return None
    [(same_as, snapshot_id)] = found
    alias = DeckAlias(
        landed.source, same_as, snapshot_id, landed.fetched_at, landed.sha256, landed.relative_path
    )
    con.execute(
        read_sql("queries/voice_deck_alias_insert.sql"),
        {
            "tech_prefix": alias.tech_prefix,
            "same_as": alias.same_as,
            "snapshot_id": alias.snapshot_id,
            "fetched_at": alias.fetched_at,
            "content_sha256": alias.content_sha256,
            "raw_path": alias.raw_path,
        },
    )
    return alias
