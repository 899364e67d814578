"""The voice feed: a ``FeedSpec`` over the generic stages (``feed.py``), its fetch and ingest,
the concurrent multi-deck download, and deck aliasing. No Dagster here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from pipeline import clock
from pipeline.commpeak import CommPeakClient
from pipeline.commpeak.errors import InvalidRequestError
from pipeline.ingest.frames import IngestResult
from pipeline.ingest.limits import IngestLimits
from pipeline.ingest.voice import normalize_voice_deck
from pipeline.landing import LandedFile, LandingZone
from pipeline.settings import Settings, validate_tech_prefix
from pipeline.stages.feed import Diverted, FeedChecks, FeedSpec, load, normalise
from pipeline.stages.staging import StagedIngest
from pipeline.warehouse.migrate import read_sql
from pipeline.warehouse.snapshot import SnapshotLoad
from pipeline.warehouse.voice import VOICE_SNAPSHOT


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
    errors = [e for f in futures.values() if (e := f.exception()) is not None]
    if errors:
        raise errors[0]
    return {tp: future.result() for tp, future in futures.items()}


def ingest_voice_deck(settings: Settings, landed: LandedFile) -> IngestResult:
    return normalize_voice_deck(
        landed.read_bytes(),
        source=landed.relative_path,
        default_increments=settings.voice.default_increments,
        fetched_at=landed.fetched_at,
        limits=IngestLimits(
            max_inflated_bytes=settings.voice.max_inflated_bytes,
            timeout_s=settings.voice.ingest_timeout_s,
        ),
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


def record_alias(con, landed: LandedFile) -> DeckAlias | None:
    """The voice feed's divert hook. Same bytes as another tech prefix's latest snapshot, and no
    history of its own: the same deck under two names (``current`` and the default tech
    prefix), loaded once. Recorded in ``voice_deck_alias``; None when it is a deck of its own."""
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


VOICE = FeedSpec(
    snapshot=VOICE_SNAPSHOT,
    checks=FeedChecks(
        keys=("prefix", "effective_at"),
        duplicates="No prefix appears twice for one effective date.",
    ),
    partition_keys=lambda settings: list(settings.voice.tech_prefixes),
    fetch=fetch_voice_deck,
    ingest=ingest_voice_deck,
    divert=record_alias,
)


# The voice stages by their names (the CLI, tests and benchmarks call them).
def normalise_voice_deck(settings: Settings, landed: LandedFile) -> StagedIngest:
    return normalise(settings, VOICE, landed)


def load_voice_deck(settings: Settings, deck: StagedIngest) -> SnapshotLoad | Diverted:
    return load(settings, VOICE, deck)
