"""Shared Dagster wiring: pools, metadata helpers. Assets stay thin: logic lives in stages/."""

from __future__ import annotations

import warnings

import dagster as dg
import polars as pl

from pipeline.landing import LandedFile
from pipeline.stages.checks import CheckOutcome

# Every DuckDB writer runs in this pool: runs never collide on the warehouse file.
WAREHOUSE_POOL = "duckdb_warehouse"
API_POOL = "commpeak_api"

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
