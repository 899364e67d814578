"""Shared Dagster wiring: pools, metadata helpers. Assets stay thin: logic lives in stages/."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import dagster as dg
import polars as pl

from pipeline.commpeak.errors import AuthenticationError, InvalidRequestError, NotFoundError
from pipeline.landing import LandedFile
from pipeline.settings import Settings
from pipeline.stages.checks import CheckOutcome

if TYPE_CHECKING:
    from dagster._utils.error import SerializableErrorInfo

# Every DuckDB writer runs in this pool: runs never collide on the warehouse file.
WAREHOUSE_POOL = "duckdb_warehouse"
API_POOL = "commpeak_api"
# The runs that cost CDR days (cdr_costs and its check). Not in WAREHOUSE_POOL: pools are
# enforced per run (orchestrate.INSTANCE_CONFIG, granularity run), so a run in that pool
# holds it while it prices, and a backfill's days would take turns. A day is priced from one
# read, without the writer lock, and only its commit (1.6-3.7 s of a 1M-call day) takes the
# warehouse's own writer lock, which keeps writers apart whatever their pool. This pool only
# bounds how many days price at once (memory: about 1 GB per 1M-call day).
CDR_POOL = "cdr_costing"
CDR_POOL_LIMIT = 2

# The change views, by the column that names a snapshot's scope (tech prefix, SMS channel).


def deck_check_specs(
    asset: str, checks: dict[str, str], partitions: dg.PartitionsDefinition
) -> list[dg.AssetCheckSpec]:
    """Blocking checks evaluated inside the asset: a failure stops the downstream load.

    Partitioned as the asset is, so each result is recorded for its tech prefix or channel: an
    unpartitioned check keeps only the latest result, and a passing prefix would hide a failing
    one. Dagster 1.13 marks ``partitions_def`` on a check spec as a preview; the warning is
    silenced here only (tests fail on any other Dagster API warning).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return [
            dg.AssetCheckSpec(
                name=name,
                asset=asset,
                description=text,
                blocking=True,
                partitions_def=partitions,
            )
            for name, text in checks.items()
        ]


def check_result(outcome: CheckOutcome) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=outcome.name,
        passed=outcome.passed,
        description=outcome.description,
        metadata=outcome.metadata,
        severity=dg.AssetCheckSeverity.ERROR,
    )


def markdown_preview(frame: pl.DataFrame, limit: int = 10) -> dg.MetadataValue:
    """A small markdown table for the Dagster UI (values as text: Decimals stay exact)."""
    head = frame.head(limit)
    if head.is_empty():
        return dg.MetadataValue.md("_no rows_")
    columns = head.columns
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in head.iter_rows():
        cells = ["" if v is None else str(v).replace("|", "\\|") for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return dg.MetadataValue.md("\n".join(lines))


def landed_metadata(landed: LandedFile) -> dict[str, str | int]:
    """Where a fetched answer was kept in the landing zone, for the Dagster UI."""
    return {
        "path": landed.relative_path,
        "bytes": landed.size_bytes,
        "sha256": landed.sha256,
        "fetched_at": landed.fetched_at.isoformat(),
    }


def changes_metadata(changes: tuple[tuple[str, int], ...]) -> dict[str, str | int]:
    """``changes`` (a number the CLI adds up) and ``change_types`` (text for the UI)."""
    detail = ", ".join(f"{count} {change_type}" for change_type, count in changes)
    return {"changes": sum(count for _, count in changes), "change_types": detail or "none"}


def fetch_retry_policy(settings: Settings) -> dg.RetryPolicy | None:
    """Steps that call the API run again after ``dagster.fetch_retry_delay_s`` (doubling) when
    they fail, up to ``dagster.fetch_retries`` times: an outage longer than the client's own
    retries. Only where retries are enabled (the daemon's runs; `ratedeck run` disables them)."""
    if settings.dagster.fetch_retries == 0:
        return None
    return dg.RetryPolicy(
        max_retries=settings.dagster.fetch_retries,
        delay=settings.dagster.fetch_retry_delay_s,
        backoff=dg.Backoff.EXPONENTIAL,
    )


# API answers a retry cannot change: a wrong key, an unknown tech prefix, a refused request
PERMANENT_API_ERRORS = (AuthenticationError, NotFoundError, InvalidRequestError)


@contextmanager
def retried_only_if_transient() -> Iterator[None]:
    """Inside a fetch step: a permanent API error fails the step without its retries."""
    try:
        yield
    except PERMANENT_API_ERRORS as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc


def root_cause(error: SerializableErrorInfo) -> str:
    """The innermost cause of a step's error, as one line."""
    while error.cause is not None:
        error = error.cause
    return one_line(error.message)


def one_line(message: str) -> str:
    # Dagster formats errors as "pkg.module.ErrorClass: message\n  traceback..."
    first = message.strip().splitlines()[0] if message.strip() else "error"
    head, sep, rest = first.partition(": ")
    return rest if sep and "." in head and " " not in head else first
