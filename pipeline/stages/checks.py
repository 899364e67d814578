"""Data-quality checks on a normalised deck, as plain functions (Dagster asset checks wrap them).

A failing check blocks the load: a truncated download looks exactly like a row-count collapse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    description: str
    metadata: dict = field(default_factory=dict)


def non_empty(rows: pl.DataFrame) -> CheckOutcome:
    return CheckOutcome("non_empty", rows.height > 0, f"{rows.height} rows", {"rows": rows.height})


def no_duplicate_keys(rows: pl.DataFrame, keys: list[str]) -> CheckOutcome:
    present = [k for k in keys if k in rows.columns]
    duplicated = rows.height - rows.unique(subset=present).height if rows.height else 0
    return CheckOutcome(
        "no_duplicate_prefix",
        duplicated == 0,
        f"{duplicated} duplicated {'/'.join(present)} keys",
        {"duplicates": duplicated},
    )


def prices_not_negative(rows: pl.DataFrame, column: str = "price") -> CheckOutcome:
    negative = rows.filter(pl.col(column) < 0).height if rows.height else 0
    return CheckOutcome(
        "prices_not_negative", negative == 0, f"{negative} negative prices", {"negative": negative}
    )


def row_count_not_collapsed(
    rows: int, previous: int | None, max_drop_fraction: float
) -> CheckOutcome:
    if not previous:
        return CheckOutcome("row_count_not_collapsed", True, "no previous snapshot", {"rows": rows})
    floor = previous * (1 - max_drop_fraction)
    drop = (previous - rows) / previous
    return CheckOutcome(
        "row_count_not_collapsed",
        rows >= floor,
        f"{rows} rows against {previous} last time ({drop:+.1%} drop; limit {max_drop_fraction:.0%})",
        {"rows": rows, "previous_rows": previous},
    )


def deck_checks(
    rows: pl.DataFrame,
    *,
    previous_rows: int | None,
    max_drop_fraction: float,
    keys: list[str],
    price_column: str = "price",
    require_rows: bool = True,
) -> list[CheckOutcome]:
    present = [non_empty(rows)] if require_rows else []
    return [
        *present,
        no_duplicate_keys(rows, keys),
        prices_not_negative(rows, price_column),
        row_count_not_collapsed(rows.height, previous_rows, max_drop_fraction),
    ]
