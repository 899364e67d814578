"""Voice rate decks: bytes in, canonical rows and rejects out (a pure function).

    result = normalize_voice_deck(raw_bytes, source="data/raw/voice/current/....csv")
    check_rejects(result, max_reject_fraction=0.01, source=...)

Every data row either becomes a canonical row (``VOICE_RATE_SCHEMA``) or a reject
(``KEYED_REJECT_SCHEMA``) with a one-line reason naming the field and, when it could be read,
the prefix it stood for; nothing is rounded or guessed silently. A row whose destination, prefix and price cells are all empty is a blank row: it is
skipped and counted in a note. The work is vectorised polars (no Python loop per row):
clean rows are proven clean by two regex scans and a length check, only the others get
rewritten, and the fields with few distinct values (increments, dates, currency) are parsed
once per distinct value.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from pipeline.ingest import fields
from pipeline.ingest.dates import parse_effective_dates
from pipeline.ingest.duplicates import sheet_name, split_duplicates
from pipeline.ingest.errors import NoValidRowsError, TooManyRejectsError
from pipeline.ingest.frames import (
    KEYED_REJECT_SCHEMA,
    REFUSED_KEY,
    REPEAT_REASON,
    VOICE_RATE_SCHEMA,
    IngestResult,
)
from pipeline.ingest.limits import IngestLimits
from pipeline.ingest.sniff import sniff_format
from pipeline.ingest.tabular import RawDeck, RawTable, read_deck

_ROW_FIELDS = ["destination", "prefix", "price"]


def normalize_voice_deck(
    data: bytes,
    *,
    source: str,
    default_increments: str = "1/1",
    fetched_at: datetime | None = None,
    limits: IngestLimits | None = None,
) -> IngestResult:
    """Reads a CSV/XLS/XLSX voice deck into canonical rows and rejects.

    ``source`` names the deck in messages (e.g. the raw file path). ``default_increments``
    applies when the deck has no increments column (a note says so). ``fetched_at`` only
    serves the note counting rows that take effect later (scheduled changes). ``limits``
    bound how far a spreadsheet may inflate and how long ingest may take (defaults apply).
    Raises UnrecognisedFormatError, NoHeaderError, MalformedCsvError, SpreadsheetTooLargeError,
    IngestTimeoutError, or NoValidRowsError (with ``.result``); ConfigError for a malformed
    ``default_increments``.
    """
    fields.check_default_increments(default_increments)
    limits = limits or IngestLimits()
    deadline = limits.deadline(source)
    fmt = sniff_format(data, source=source)
    deck = read_deck(data, fmt, source=source, limits=limits, deadline=deadline)
    deadline.check("the rows read")
    notes = list(deck.notes) + _mapping_notes(deck, default_increments)
    raw = pl.concat(
        [
            _canonical_text(table, index, default_increments)
            for index, table in enumerate(deck.tables)
        ],
        how="vertical",
    ).with_row_index("_order")

    checked, blank = _check_row_fields(raw)
    deadline.check("the rows checked")
    if blank:
        notes.append(f"skipped {blank} blank row{'s' if blank != 1 else ''}")
    checked, date_notes = _check_value_fields(checked, deck.excel_epoch)
    notes.extend(date_notes)

    sheets = [table.sheet for table in deck.tables]
    valid, duplicates = split_duplicates(checked.filter(pl.col("_reason").is_null()), sheets)
    refused = pl.concat([checked.filter(pl.col("_reason").is_not_null()), duplicates])
    rows = _rows_frame(valid)
    rejects = _rejects_frame(refused, deck)
    notes.extend(_unmatchable_prefix_note(rows))
    if fetched_at is not None:
        notes.extend(_scheduled_note(rows, fetched_at))
    result = IngestResult(
        rows=rows,
        rejects=rejects,
        source_format=deck.source_format,
        total_rows=rows.height + rejects.height,
        notes=notes,
    )
    if rows.height == 0:
        if rejects.height == 0:
            raise NoValidRowsError(f"{source}: no data rows under the header", result)
        raise NoValidRowsError(
            f"{source}: no valid rows: all {rejects.height} rows rejected ({top_reasons(rejects)})",
            result,
        )
    return result


def check_rejects(
    result: IngestResult, max_reject_fraction: float, source: str, listed_in: str | None = None
) -> None:
    """Raises TooManyRejectsError when more than ``max_reject_fraction`` of rows were refused
    (identical repeats, which lose nothing, count neither as rejects nor as rows). One short
    line: the counts and the commonest kinds of reason; ``listed_in`` names where every reject
    can be read."""
    if result.reject_fraction <= max_reject_fraction:
        return
    repeats = result.repeat_count
    distinct = result.total_rows - repeats
    not_counted = f"; {repeats} identical repeats not counted" if repeats else ""
    raise TooManyRejectsError(
        f"{source}: {result.counted_rejects} of {distinct} rows rejected "
        f"({result.reject_fraction:.2%}, limit {max_reject_fraction:.2%}{not_counted}): "
        f"{top_reasons(result.rejects.filter(~pl.col('reason').str.starts_with(REPEAT_REASON)))}"
        + (f"; every reject in {listed_in}" if listed_in else "")
    )


def top_reasons(rejects: pl.DataFrame, limit: int = 3) -> str:
    """'price: empty (9), prefix: contains letters (2)': reasons counted by kind, without their
    values, so the line stays short however many rows share a problem.

    A reason names its field and why; the offending value is quoted ('...') and left out here.
    Duplicates count by kind, whatever their key and rows: ``duplicate``, ``conflicting
    duplicate prefix`` (voice), ``conflicting duplicate`` (SMS: one kind for every pair).
    """
    kinds = (
        # a row's reasons are joined by "; " before each field ("price: empty; prefix: ...");
        # a "; " inside one reason ("...decimal places; refusing to round") does not split it
        rejects.select(
            pl.col("reason").str.replace_all(r"; ([a-z][a-z ]*: )", "\x1f${1}").str.split("\x1f")
        )
        .explode("reason")
        .select(
            pl.col("reason")
            .str.replace_all(r"\s*'[^']*'", "")
            .str.replace(
                r"^(conflicting duplicate prefix|conflicting duplicate|duplicate)\b.*", "${1}"
            )
            .alias("kind")
        )
        .group_by("kind")
        .len()
        .sort(["len", "kind"], descending=[True, False])
    )
    shown = [f"{kind} ({count})" for kind, count in kinds.head(limit).iter_rows()]
    more = kinds.height - limit
    return ", ".join(shown) + (f", and {more} more kinds" if more > 0 else "")


def _mapping_notes(deck: RawDeck, default_increments: str) -> list[str]:
    notes: list[str] = []
    first = deck.tables[0].mapping
    if first.positional:
        notes.append("no header row: columns read by position (destination, prefix, price)")
    if not any(table.mapping.has_increments() for table in deck.tables):
        notes.append(f"no increments column: used {default_increments} for every row")
    header_currencies = {
        table.mapping.header_currency
        for table in deck.tables
        if "currency" not in table.mapping.columns and table.mapping.header_currency
    }
    for currency in sorted(header_currencies):
        notes.append(f"currency {currency} taken from the price column's header")
    ignored = dict.fromkeys(name for table in deck.tables for name in table.mapping.ignored)
    if ignored and not first.positional:
        notes.append("ignored columns: " + ", ".join(ignored))
    return notes


def _canonical_text(table: RawTable, index: int, default_increments: str) -> pl.DataFrame:
    """The table's text for each canonical field, plus where each row came from."""
    mapping = table.mapping

    def cell(name: str) -> pl.Expr:
        if name not in mapping.columns:
            return pl.lit(None, dtype=pl.String)
        return pl.col(mapping.names[mapping.columns[name]])

    if "increments" in mapping.columns:
        increments = cell("increments")
    elif mapping.has_increments():
        # "30/6" from First + Sub Interval; spaces are stripped with the combined text later
        increments = pl.concat_str(
            cell("first_interval").fill_null(""), pl.lit("/"), cell("sub_interval").fill_null("")
        )
    else:
        increments = pl.lit(default_increments)
    if "currency" in mapping.columns:
        currency = cell("currency")
    else:
        currency = pl.lit(mapping.header_currency, dtype=pl.String)
    if table.shape_reasons is None:
        shape = pl.lit(None, dtype=pl.String)
    else:
        shape = pl.lit(table.shape_reasons)
    return table.frame.select(
        cell("destination").alias("destination"),
        cell("prefix").alias("prefix"),
        cell("price").alias("price"),
        increments.cast(pl.String).alias("increments"),
        cell("effective").alias("effective"),
        currency.alias("currency"),
        shape.alias("_shape"),
        (pl.int_range(pl.len(), dtype=pl.Int64) + table.first_row_number).alias("_row"),
        pl.lit(index, dtype=pl.Int32).alias("_table"),
        pl.int_range(pl.len(), dtype=pl.Int64).alias("_idx"),
    )


def _check_row_fields(raw: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Destination, prefix, price: values and reasons; blank rows dropped (and counted).

    These differ on every row, so clean rows (the bulk) are proven clean by regex and kept
    as they are; only the other rows are rewritten, then written back in place. A row whose
    field count is wrong (``_shape``) gets that reason alone: its fields may be shifted, so
    judging them would only mislead.
    """
    clean = raw.select(fields.clean_row_mask() & pl.col("_shape").is_null()).to_series()
    if clean.all():
        return raw.with_columns(
            fields.to_price(pl.col("price")).alias("price"),
            pl.lit(None, dtype=pl.String).alias("_row_reason"),
            pl.lit(True).alias("_prefix_ok"),
        ), 0
    positions = (~clean).arg_true()
    destination, destination_reason = fields.destination_rule()
    prefix, prefix_reason = fields.prefix_rule()
    price, price_reason = fields.price_rule()
    reason = pl.coalesce(
        pl.col("_shape"),
        pl.concat_str(
            destination_reason, prefix_reason, price_reason, separator="; ", ignore_nulls=True
        ),
    )
    fixed = (
        raw[positions]
        .with_columns(pl.col(_ROW_FIELDS).str.strip_chars())
        .select(
            destination,
            prefix,
            pl.when(reason == "").then(price).alias("price"),
            pl.when(reason != "").then(reason).alias("_row_reason"),
            # the prefix names the row's key even when another field is refused
            (prefix_reason.is_null() & pl.col("_shape").is_null()).alias("_prefix_ok"),
            (
                pl.all_horizontal(fields.is_empty(pl.col(name)) for name in _ROW_FIELDS)
                & pl.col("_shape").is_null()
            ).alias("_blank"),
        )
    )
    patched = raw.with_columns(
        [raw[name].clone().scatter(positions, fixed[name]) for name in _ROW_FIELDS]
        + [
            pl.repeat(None, raw.height, dtype=pl.String, eager=True)
            .alias("_row_reason")
            .scatter(positions, fixed["_row_reason"]),
            pl.repeat(False, raw.height, eager=True)
            .alias("_blank")
            .scatter(positions, fixed["_blank"]),
            pl.repeat(True, raw.height, eager=True)
            .alias("_prefix_ok")
            .scatter(positions, fixed["_prefix_ok"]),
        ]
    )
    checked = patched.filter(~pl.col("_blank")).drop("_blank")
    checked = checked.with_columns(fields.to_price(pl.col("price")).alias("price"))
    return checked, patched.height - checked.height


def _check_value_fields(
    checked: pl.DataFrame, excel_epoch: datetime | None
) -> tuple[pl.DataFrame, list[str]]:
    """Increments, effective date, currency: few distinct values, each parsed once."""
    initial, increment, increments_reason = fields.increments_rule()
    increments = _parse_distinct(
        checked,
        "increments",
        initial.alias("initial_seconds"),
        increment.alias("increment_seconds"),
        increments_reason.alias("_increments_reason"),
    )
    currency, currency_reason = fields.currency_rule()
    currencies = _parse_distinct(
        checked, "currency", currency.alias("_currency"), currency_reason.alias("_currency_reason")
    )
    effective = _distinct_text(checked, "effective")
    dates = parse_effective_dates(effective["effective"], excel_epoch=excel_epoch)
    effective = effective.with_columns(
        dates.values.alias("effective_at"), dates.reasons.alias("_date_reason")
    ).drop("effective")
    joined = checked
    for column, parsed in (
        ("increments", increments),
        ("currency", currencies),
        ("effective", effective),
    ):
        joined = _attach(joined, column, parsed)
    reasons = [
        name
        for name in ("_row_reason", "_increments_reason", "_date_reason", "_currency_reason")
        if joined[name].null_count() < joined.height
    ]
    reason = pl.lit(None, dtype=pl.String)
    if reasons:
        joined_reasons = pl.concat_str(reasons, separator="; ", ignore_nulls=True)
        # a row with the wrong field count keeps that reason alone (see _check_row_fields)
        reason = pl.coalesce(pl.col("_shape"), pl.when(joined_reasons != "").then(joined_reasons))
    result = joined.select(
        "_order",
        "_row",
        "_table",
        "_idx",
        "destination",
        "prefix",
        "price",
        "initial_seconds",
        "increment_seconds",
        "effective_at",
        pl.col("_currency").alias("currency"),
        reason.alias("_reason"),
        "_prefix_ok",
    )
    return result, dates.notes


def _distinct_text(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Distinct raw values under ``_key``, and the stripped text under the column's name."""
    return frame.select(pl.col(column).unique().alias("_key")).with_columns(
        pl.col("_key").str.strip_chars().alias(column)
    )


def _parse_distinct(frame: pl.DataFrame, column: str, *parsed: pl.Expr) -> pl.DataFrame:
    return _distinct_text(frame, column).with_columns(*parsed).drop(column)


def _attach(frame: pl.DataFrame, column: str, parsed: pl.DataFrame) -> pl.DataFrame:
    """Puts the per-value results back on the rows (a broadcast when there is one value).

    Each row's value is mapped to its position among the few distinct values (null maps like
    any value), and every parsed column is gathered by it: cheaper than a join.
    """
    results = [name for name in parsed.columns if name != "_key"]
    if parsed.height == 1:
        return frame.with_columns(
            pl.lit(parsed[name][0], dtype=parsed[name].dtype).alias(name) for name in results
        )
    if frame.height == 0:
        return frame.with_columns(parsed[name].clear() for name in results)
    positions = frame[column].replace_strict(
        parsed["_key"], pl.int_range(parsed.height, dtype=pl.UInt32, eager=True)
    )
    return frame.with_columns(parsed[name].gather(positions).alias(name) for name in results)


def _rows_frame(valid: pl.DataFrame) -> pl.DataFrame:
    return valid.select(
        pl.col("_row").alias("row_number"),
        "prefix",
        "destination",
        "price",
        "initial_seconds",
        "increment_seconds",
        "effective_at",
        "currency",
    ).cast(VOICE_RATE_SCHEMA)


def _rejects_frame(refused: pl.DataFrame, deck: RawDeck) -> pl.DataFrame:
    if refused.height == 0:
        return pl.DataFrame(schema=KEYED_REJECT_SCHEMA)
    raw_json = pl.concat(
        [_raw_json(table, index, refused) for index, table in enumerate(deck.tables)]
    )
    return (
        refused.join(raw_json, on=["_table", "_idx"], how="left")
        .sort("_order")
        .select(
            pl.col("_row").alias("row_number"),
            sheet_name([table.sheet for table in deck.tables]).alias("sheet"),
            "raw",
            pl.col("_reason").alias("reason"),
            _refused_key().alias(REFUSED_KEY),
        )
        .cast(KEYED_REJECT_SCHEMA)
    )


def _refused_key() -> pl.Expr:
    """The prefix a refused row stood for, when its prefix was readable (an identical repeat
    names none: its prefix is in the deck)."""
    repeat = pl.col("_reason").str.starts_with(REPEAT_REASON)
    return pl.when(pl.col("_prefix_ok") & ~repeat).then(pl.col("prefix"))


def _raw_json(table: RawTable, index: int, refused: pl.DataFrame) -> pl.DataFrame:
    """The refused rows' cells as a JSON object keyed by the source's column names."""
    wanted = refused.filter(pl.col("_table") == index)["_idx"]
    return table.frame[wanted].select(
        pl.lit(index, dtype=pl.Int32).alias("_table"),
        pl.Series("_idx", wanted),
        pl.struct(table.mapping.names).struct.json_encode().alias("raw"),
    )


def _unmatchable_prefix_note(rows: pl.DataFrame) -> list[str]:
    """Prefixes written with the international call prefix (``0044``) are kept as written,
    but a number loses one leading 00 before it is matched (``phone.normalise_number``): no
    number can reach them, and the deck's owner should hear it rather than find out from a
    call billed on a shorter prefix."""
    international = rows.filter(pl.col("prefix").str.starts_with("00"))["prefix"]
    if international.is_empty():
        return []
    count = international.len()
    return [
        f"{count} prefix{'es' if count != 1 else ''} start with 00 (e.g. '{international[0]}'): "
        "numbers are matched without their leading 00, so none can match "
        f"{'them' if count != 1 else 'it'} (write '{international[0][2:]}' for "
        f"'{international[0]}')"
    ]


def _scheduled_note(rows: pl.DataFrame, fetched_at: datetime) -> list[str]:
    moment = fetched_at if fetched_at.tzinfo else fetched_at.replace(tzinfo=UTC)
    later = int((rows["effective_at"] > moment).sum())
    if not later:
        return []
    plural = "s take" if later != 1 else " takes"
    return [f"{later} row{plural} effect after the fetch (scheduled changes)"]
