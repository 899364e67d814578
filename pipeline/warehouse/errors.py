"""Warehouse failures: each one is a single line for the CLI (see pipeline/errors.py)."""

from __future__ import annotations

from pipeline.errors import RatedeckError


class WarehouseError(RatedeckError):
    """Something went wrong opening, writing or publishing the DuckDB warehouse."""


class WarehouseLockedError(WarehouseError):
    """Another writer held the warehouse lock for longer than the timeout."""


class WarehouseHeldError(WarehouseError):
    """Another process holds the published warehouse open read-write (e.g. a SQL client not
    opened read-only), so DuckDB refuses to open it even read-only. Exit 1: nothing was wrong
    with the command; it runs once that process lets go."""


class WarehouseMissingError(WarehouseError):
    """No published warehouse file yet (nothing has been loaded)."""

    exit_code = 2


class WarehouseNewerError(WarehouseError):
    """The warehouse was migrated by a newer ratedeck (a schema migration this one does not
    ship). Exit 2, as a missing warehouse: retrying does not help; upgrading ratedeck, or
    restoring the backup taken before the upgrade, does."""

    exit_code = 2


class SnapshotLoadError(WarehouseError):
    """A snapshot could not be loaded; the transaction was rolled back, nothing changed."""


class QueryError(WarehouseError):
    """An analyst's SQL failed (syntax, unknown column, write on the read-only warehouse)."""

    exit_code = 2
