"""Rows that share a key (prefix + effective date): keep one, or refuse them all.

Identical rows (same destination, price, increments, currency): the first is kept, later ones
are refused as "duplicate of row N". Rows that share a key but differ: every one is refused,
because picking one by position would be a coin toss.
"""

from __future__ import annotations

import polars as pl

from pipeline.ingest.frames import REPEAT_REASON

KEY = ("prefix", "effective_at")
CONTENT = ("destination", "price", "initial_seconds", "increment_seconds", "currency")


def sheet_name(sheets: list[str | None]) -> pl.Expr:
    """The sheet of each row, from its table index (null for CSV)."""
    if len(sheets) == 1:
        return pl.lit(sheets[0], dtype=pl.String)
    return pl.col("_table").replace_strict(dict(enumerate(sheets)), return_dtype=pl.String)


def location(sheets: list[str | None]) -> pl.Expr:
    """'row 5', or "row 5 (sheet 'Rates 2')" when the deck spans sheets."""
    row = pl.concat_str(pl.lit("row "), pl.col("_row").cast(pl.String))
    if len(sheets) == 1:
        return row
    return pl.concat_str(row, pl.lit(" (sheet '"), sheet_name(sheets), pl.lit("')"))


def _row_list(multi_sheet: bool) -> pl.Expr:
    """'rows 5, 9' for the rows sharing the key (with sheet names when the deck spans sheets)."""
    if multi_sheet:
        return pl.col("_loc").str.join(", ").over(list(KEY))
    rows = pl.col("_row").cast(pl.String).str.join(", ").over(list(KEY))
    return pl.concat_str(pl.lit("rows "), rows)


def split_duplicates(
    valid: pl.DataFrame, sheets: list[str | None]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows kept, rows refused with ``_reason``); ``valid`` must be in source order.

    ``sheets`` names the sheet of each table index (one None for a CSV).
    """
    multi_sheet = len(sheets) > 1
    key = list(KEY)
    if valid["prefix"].n_unique() == valid.height:
        return valid, valid.clear()  # the common case: no prefix repeats, so no key does
    repeated = valid.select(key).is_duplicated()
    if not repeated.any():
        return valid, valid.clear()
    shared = valid.filter(repeated).with_columns(location(sheets).alias("_loc"))
    differing = [
        pl.when(pl.col(name).n_unique().over(key) > 1).then(pl.lit(name.replace("_", " ")))
        for name in CONTENT
    ]
    effective = (
        pl.when(pl.col("effective_at").is_null())
        .then(pl.lit(""))
        .otherwise(
            pl.concat_str(
                pl.lit(" effective "), pl.col("effective_at").dt.to_string("%Y-%m-%d %H:%M:%S")
            )
        )
    )
    reason = (
        pl.when(pl.struct(list(CONTENT)).n_unique().over(key) > 1)
        .then(
            pl.concat_str(
                pl.lit("conflicting duplicate prefix "),
                pl.col("prefix"),
                effective,
                pl.lit(": "),
                _row_list(multi_sheet),
                pl.lit(" differ in "),
                pl.concat_str(differing, separator=", ", ignore_nulls=True),
            )
        )
        .when(pl.int_range(pl.len()).over(key) > 0)
        .then(pl.concat_str(pl.lit(REPEAT_REASON), pl.col("_loc").first().over(key)))
    )
    shared = shared.with_columns(reason.alias("_reason"))
    refused = shared.filter(pl.col("_reason").is_not_null()).select(valid.columns)
    kept_keys = shared.filter(pl.col("_reason").is_null()).select("_order")
    kept = valid.filter(~repeated | pl.col("_order").is_in(kept_keys["_order"].implode()))
    return kept, refused
