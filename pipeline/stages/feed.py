"""One shape for every rate feed's load path: fetch -> land -> normalise -> check -> load.

A feed (voice decks, SMS lists; the CDR feed next) is a ``FeedSpec``: how to fetch and ingest
one partition, what its checks look at, its settings section, and its ``SnapshotSpec`` (how the
warehouse stores it). The stages below are the same for every feed; Dagster (``defs/feed.py``)
and the CLI only wrap them. No Dagster here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

import duckdb
import polars as pl

from pipeline.commpeak import CommPeakClient
from pipeline.ingest.frames import IngestResult
from pipeline.landing import LandedFile
from pipeline.settings import FeedSettings, Settings
from pipeline.stages.checks import CheckOutcome, deck_checks
from pipeline.stages.staging import StagedIngest, stage_ingest
from pipeline.warehouse.db import Warehouse
from pipeline.warehouse.report_setting import record_report_setting
from pipeline.warehouse.snapshot import (
    IncomingSnapshot,
    SnapshotLoad,
    SnapshotSpec,
    brought_no_changes,
    load_snapshot,
    previous_row_count,
    snapshot_change_counts,
)


@dataclass(frozen=True)
class FeedChecks:
    """The blocking checks on a normalised snapshot (``checks.deck_checks``), declared."""

    keys: tuple[str, ...]  # no two rows share these (with the effective date, if any)
    duplicates: str  # what no_duplicate_prefix guards, in the feed's words
    price_column: str = "price"
    require_rows: bool = True  # False: an empty snapshot is legitimate (an SMS channel's)


class Diverted(Protocol):
    """A download recorded rather than loaded: the very snapshot another source holds."""

    @property
    def snapshot_id(self) -> int: ...  # same_as's snapshot of these bytes

    @property
    def same_as(self) -> str: ...

    @property
    def note(self) -> str: ...


# Hook: (con, landed) -> what was recorded instead, or None to load the snapshot.
Divert = Callable[[duckdb.DuckDBPyConnection, LandedFile], Diverted | None]


@dataclass(frozen=True)
class FeedSpec:
    """One feed. Its name is its snapshot kind (voice, sms, cdr): the landing-zone kind, the
    Dagster group and its own settings section ([voice], [sms], [cdr]). A pushed feed (CDR
    files: imported, not downloaded) has no ``fetch`` and no deck ``checks``."""

    snapshot: SnapshotSpec
    ingest: Callable[[Settings, LandedFile], IngestResult]  # the pure ingest function
    partition_keys: Callable[[Settings], list[str]]  # tech prefixes, channel keys
    checks: FeedChecks | None = None
    fetch: Callable[[Settings, CommPeakClient, str], LandedFile] | None = None  # one partition
    divert: Divert | None = None

    @property
    def name(self) -> str:
        return self.snapshot.kind

    @property
    def deck_checks(self) -> FeedChecks:
        if self.checks is None:
            raise ValueError(f"feed {self.name}: has no deck checks")
        return self.checks

    def section(self, settings: Settings) -> FeedSettings:
        return getattr(settings, self.name)


def check_descriptions(feed: FeedSpec) -> dict[str, str]:
    """What each of ``check``'s outcomes guards (the Dagster check specs), by check name."""
    empty = {"non_empty": f"The {feed.snapshot.noun} has at least one valid row."}
    checks = feed.deck_checks
    return {
        **(empty if checks.require_rows else {}),
        "no_duplicate_prefix": checks.duplicates,
        "prices_not_negative": f"No negative {checks.price_column}.",
        "row_count_not_collapsed": "Row count did not fall more than "
        f"{feed.name}.max_row_drop_fraction against the last snapshot (what a truncated "
        "download looks like).",
    }


def fetch(settings: Settings, feed: FeedSpec, partition_key: str) -> LandedFile:
    if feed.fetch is None:
        raise ValueError(f"feed {feed.name}: files are imported, not fetched")
    with CommPeakClient.from_settings(settings) as client:
        return feed.fetch(settings, client, partition_key)


def normalise(settings: Settings, feed: FeedSpec, landed: LandedFile) -> StagedIngest:
    """Ingest, refuse a mostly-garbage snapshot (the feed's max_reject_fraction), stage it."""
    result = feed.ingest(settings, landed)
    return stage_ingest(settings, landed, result, feed.section(settings).max_reject_fraction)


def check(
    settings: Settings, feed: FeedSpec, source: str, rows: pl.DataFrame
) -> list[CheckOutcome]:
    """The blocking checks on a normalised snapshot of ``source`` (the rows as staged)."""
    checks = feed.deck_checks
    return deck_checks(
        rows,
        previous_rows=published_previous_row_count(settings, feed, source),
        max_drop_fraction=feed.section(settings).max_row_drop_fraction,
        keys=list(checks.keys),
        price_column=checks.price_column,
        require_rows=checks.require_rows,
    )


def published_previous_row_count(settings: Settings, feed: FeedSpec, source: str) -> int | None:
    wh = Warehouse(settings)
    if not wh.published_path.exists():
        return None
    with wh.reader() as con:
        return previous_row_count(con, feed.snapshot, source)


def load(settings: Settings, feed: FeedSpec, staged: StagedIngest) -> SnapshotLoad | Diverted:
    """Load the snapshot in one writer session; see ``load_into``."""
    with Warehouse(settings).writer() as con:
        return load_into(con, settings, feed, staged)


def load_into(
    con: duckdb.DuckDBPyConnection, settings: Settings, feed: FeedSpec, staged: StagedIngest
) -> SnapshotLoad | Diverted:
    """Load in one transaction on ``con``; the outcome also counts the price changes it
    brought. What the feed's divert hook records instead (an alias) is returned as is."""
    diverted = feed.divert(con, staged.landed) if feed.divert else None
    if diverted is not None:
        return diverted
    loaded = load_snapshot(con, feed.snapshot, incoming(settings, staged))
    record_report_setting(con, settings.report)  # the change views judge like the email
    if loaded.replayed or feed.snapshot.history is None:  # append-only: no change view
        return loaded
    if brought_no_changes(con, feed.snapshot, loaded):  # spares a scan of the whole history
        return loaded
    counts = snapshot_change_counts(con, feed.snapshot, loaded.source, loaded.snapshot_id)
    return replace(loaded, changes=counts)


def kept_refused_note(count: int) -> str:
    """What a load whose refused rows kept their previous prices says (Dagster's warning, the
    run summary)."""
    rows = "row kept its" if count == 1 else "rows kept their"
    return f"{count} refused {rows} previous price (not removed; reasons in ingest_reject)"


def incoming(settings: Settings, staged: StagedIngest) -> IncomingSnapshot:
    landed = staged.landed
    return IncomingSnapshot(
        source=landed.source,
        fetched_at=landed.fetched_at,
        content_sha256=landed.sha256,
        raw_path=landed.relative_path,
        result=staged.result(),
        account_currency=settings.report.currency,
    )
