"""The CDR ingest as it was before it was vectorised: every row read with ``csv`` (switch
formats) or polars' row iterator (generic files) and checked one at a time in Python. Kept as
the reference the vectorised ``pipeline.ingest.cdr.ingest_cdr`` must equal, row for row and
reject for reject. It shares the pipeline's spec (schema, layouts, routing) and its per-row
rules (``_call``: the rules that word every reject), so what it checks is the vectorised
reading and bulk conversion against them. A call without an id is named by its record
(``_named_by_record``: the raw text of the layout's naming fields and its occurrence among
identical records, docs/cdr.md#formats), here one record at a time. Not used by the pipeline.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from pipeline.ingest.cdr import (
    CDR_ROW_SCHEMA,
    LAYOUTS,
    NO_CALL_HINT,
    SWITCH_NAMES,
    BadField,
    CdrFormat,
    GenericColumns,
    Layout,
    Routing,
    _at,
    _call,
    _generic_columns,
    _generic_fields,
    _generic_table,
    _text,
    generic_names,
    reject_row,
)
from pipeline.ingest.errors import NoValidRowsError
from pipeline.ingest.frames import REJECT_SCHEMA, IngestResult


def reference_ingest_cdr(
    data: bytes,
    *,
    source: str,
    cdr_format: CdrFormat,
    routing: Routing,
    timezone: str = "UTC",
    columns: GenericColumns | None = None,
    parquet: bool = False,
) -> IngestResult:
    """Parse one CDR file. Raises an ingest error for a file with no usable row at all."""
    zone = ZoneInfo(timezone)
    names = SWITCH_NAMES
    if cdr_format == "generic":
        columns = columns or GenericColumns("number", "seconds", "started_at")
        records = _generic_records(data, source, columns, parquet=parquet)
        names = generic_names(columns)
    else:
        records = _switch_records(data, source, LAYOUTS[cdr_format])
    rows: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []
    seen: Counter[str] = Counter()  # the naming text of every record so far
    first_attempt: dict[str, str] = {}  # each switch id's first attempt (Asterisk dstchannel)
    seen_before: Counter[str] = Counter()  # the same for the naming of releases before
    for row_number, raw, fields, naming, attempt, former in records:
        seen[naming] += 1
        if former is not None:
            seen_before[former] += 1
        switch_id = (fields.get("call_id") or "").strip()
        if switch_id and attempt is not None:
            first_attempt.setdefault(switch_id, attempt)
        try:
            call = _call(fields, routing, zone, names)
        except BadField as exc:
            rejects.append(reject_row(row_number, raw, str(exc)))
            continue
        named_by_record = not call["call_id"]
        if call["call_id"] and attempt is not None and attempt != first_attempt[call["call_id"]]:
            call["call_id"] = _naming_text([call["call_id"], attempt])  # a later Dial attempt
        call["call_id"] = call["call_id"] or f"{naming}#{seen[naming]}"
        former_id = f"{former}#{seen_before[former]}" if named_by_record and former else None
        rows.append({"row_number": row_number, **call, "named_by_record": named_by_record,
                     "former_call_id": former_id})  # fmt: skip
    return _result(source, cdr_format, rows, rejects, parquet=parquet)


def _naming_text(values: list[str | None]) -> str:
    """The raw naming fields of one record, ``|`` between them, ``\\`` and ``|`` escaped."""
    return "|".join((v or "").replace("\\", "\\\\").replace("|", "\\|") for v in values)


# -- reading the formats --------------------------------------------------------------------
# row number, raw values, canonical fields, the naming text, the attempt text (None: no such
# field in the format), the naming text of releases before (None: the same)
Record = tuple[int, Any, dict[str, str | None], str, str | None, str | None]


def _switch_records(data: bytes, source: str, layout: Layout) -> Iterator[Record]:
    text = _text(data, source)
    for line, values in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        if not any(v.strip() for v in values):
            continue  # a blank line is no call
        if len(values) < layout.min_fields:
            fields: dict[str, str | None] = {
                "problem": f"{len(values)} field(s), expected at least {layout.min_fields}"
            }
        else:
            fields = {
                "number": values[layout.number],
                "started_at": values[layout.started_at],
                "duration": values[layout.duration],
                "billsec": values[layout.billsec],
                "disposition": values[layout.disposition],
                "answered": layout.answered,
                "call_id": _at(values, layout.call_id),
            }
        attempt = None if layout.attempt is None else _at(values, layout.attempt) or ""
        naming = _naming_text([_at(values, i) for i in layout.record])
        former = layout.former_record
        former_naming = None if former is None else _naming_text([_at(values, i) for i in former])
        yield line, values, fields, naming, attempt, former_naming


def _generic_records(
    data: bytes, source: str, columns: GenericColumns, *, parquet: bool
) -> Iterator[Record]:
    wanted = _generic_columns(columns)
    table = _generic_table(data, source, wanted, parquet=parquet)
    shape = table.reasons(list(range(table.frame.height)))
    first = 1 if parquet else 2  # a CSV's line 1 is its header
    for index, raw in enumerate(table.frame.iter_rows(named=True)):
        if (
            not parquet
            and shape[index] is None
            and not any((v or "").strip() for v in raw.values())
        ):
            continue  # a blank line (or an empty row ",,,") is no call
        read = _generic_fields(raw, wanted)  # a refused row counts among the records too
        naming = [read[key] for key in ("started_at", "number", "billsec", "tech_prefix")]
        fields = _generic_fields(raw, wanted, shape[index])
        yield index + first, raw, fields, _naming_text(naming), None, None


# -- shaping the result ---------------------------------------------------------------------
def _result(
    source: str,
    cdr_format: str,
    rows: list[dict[str, Any]],
    rejects: list[dict[str, Any]],
    *,
    parquet: bool,
) -> IngestResult:
    total = len(rows) + len(rejects)
    result = IngestResult(
        rows=pl.DataFrame(rows, schema=CDR_ROW_SCHEMA, orient="row"),
        rejects=pl.DataFrame(rejects, schema=REJECT_SCHEMA, orient="row"),
        source_format=f"{cdr_format}-parquet" if parquet else cdr_format,
        total_rows=total,
    )
    if total and not rows:
        raise NoValidRowsError.none_usable(source, "call", total, result, NO_CALL_HINT)
    return result
