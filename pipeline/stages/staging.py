"""The staged result of an ingest: canonical rows and rejects as parquet beside a landed file.

Shared by voice decks and SMS rate lists: what Dagster passes from the normalising asset to the
loading one (small and picklable: paths and counts, never the frames themselves).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipeline.ingest.frames import IngestResult
from pipeline.ingest.voice import check_rejects
from pipeline.landing import LandedFile
from pipeline.settings import Settings


@dataclass(frozen=True)
class StagedIngest:
    landed: LandedFile
    rows_path: Path
    rejects_path: Path
    source_format: str
    row_count: int
    reject_count: int
    total_rows: int
    notes: tuple[str, ...]

    def rows(self) -> pl.DataFrame:
        return pl.read_parquet(self.rows_path)

    def rejects(self) -> pl.DataFrame:
        return pl.read_parquet(self.rejects_path)

    def result(self) -> IngestResult:
        return IngestResult(
            rows=self.rows(),
            rejects=self.rejects(),
            source_format=self.source_format,
            total_rows=self.total_rows,
            notes=list(self.notes),
        )


def stage_ingest(
    settings: Settings, landed: LandedFile, result: IngestResult, max_reject_fraction: float
) -> StagedIngest:
    """Stage rows and rejects, then refuse a mostly-garbage download (more rejects than
    ``max_reject_fraction``, the feed's own setting), naming the staged rejects: the refused
    download's full list of reasons (Parquet)."""
    # the landed file's folder is already a safe per-source name (tech prefix, channel)
    folder = settings.data_dir / "staging" / landed.kind / landed.path.parent.name
    folder.mkdir(parents=True, exist_ok=True)
    rows_path = folder / f"{landed.path.stem}.rows.parquet"
    rejects_path = folder / f"{landed.path.stem}.rejects.parquet"
    result.rejects.write_parquet(rejects_path)
    listed_in = rejects_path.relative_to(settings.data_dir).as_posix()
    check_rejects(result, max_reject_fraction, landed.relative_path, listed_in=listed_in)
    result.rows.write_parquet(rows_path)
    return StagedIngest(
        landed=landed,
        rows_path=rows_path,
        rejects_path=rejects_path,
        source_format=result.source_format,
        row_count=result.rows.height,
        reject_count=result.rejects.height,
        total_rows=result.total_rows,
        notes=tuple(result.notes),
    )
