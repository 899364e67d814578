"""Call detail records (the customer's switch exports) -> canonical call rows + rejects (pure).

Three formats (docs/cdr.md):

* ``asterisk``: ``cdr-csv``'s Master.csv, no header, fixed columns (accountcode, src, dst,
  dcontext, clid, channel, dstchannel, lastapp, lastdata, start, answer, end, duration,
  billsec, disposition, amaflags[, uniqueid, userfield]). Billable: ``ANSWERED`` and
  billsec > 0.
* ``freeswitch``: ``mod_cdr_csv``'s ``default`` template, no header (caller_id_name,
  caller_id_number, destination_number, context, start_stamp, answer_stamp, end_stamp,
  duration, billsec, hangup_cause, uuid, bleg_uuid, accountcode, read_codec, write_codec).
  Billable: billsec > 0, whatever the hangup cause: FreeSWITCH sets billsec to hangup minus
  answer time when the call was answered, else 0 (``switch_channel_set_timestamps``), so an
  answered call that ended with ALLOTTED_TIMEOUT, MEDIA_TIMEOUT or NORMAL_UNSPECIFIED was
  connected, and billed, for billsec seconds.
* ``generic``: CSV with a header or Parquet; ``CdrColumns`` names the columns. Billable:
  seconds > 0.

The work is vectorised (polars), like the voice deck ingest: the file is tokenised by
``polars.read_csv`` when its parse provably equals Python's ``csv`` module (else by ``csv``),
and a row every field of which passes a strict fast check (plain digits, an ISO time, whole
seconds) is converted in bulk. Every other row goes through the row-by-row rules below
(``_call``), which word the reason; so a row is accepted or refused, with the same values and
reasons, exactly as one row at a time would be (the tests hold the two equal).

A row that cannot be a call (bad number, time or seconds; too few fields, or in a generic CSV
more than its header) is a reject with its row number and reason. A call that did not bill
(unanswered) is kept, ``billable`` false: counted, never silently dropped. Switch times carry
no zone: they are read in ``timezone`` and stored in UTC; a time the clock skipped (DST) is a
reject, a repeated one is read as the first occurrence.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from pipeline.ingest.csv_rows import HeaderCsv, blank_rows, read_header_csv, require_columns
from pipeline.ingest.errors import NoValidRowsError, UnrecognisedFormatError
from pipeline.ingest.frames import REJECT_SCHEMA, UTC_TS, IngestResult
from pipeline.ingest.number_columns import plain_number_digits
from pipeline.ingest.phone import WHITESPACE, number_problem

CdrFormat = Literal["asterisk", "freeswitch", "generic"]

CDR_CALL_SCHEMA = pl.Schema(
    {
        "row_number": pl.Int64(),  # 1-based record (the line while records are lines)
        "call_id": pl.String(),  # the switch's id; without one, the record's (_name_by_record)
        "started_at": UTC_TS,
        "dialled": pl.String(),  # as the switch sent it (tech prefix included)
        "number": pl.String(),  # digits, without the tech prefix, normalised after it too
        "tech_prefix": pl.String(),
        "duration_seconds": pl.Int64(),  # null when the format has no total duration
        "billsec": pl.Int64(),  # talk time the carrier bills
        "billable": pl.Boolean(),
        "disposition": pl.String(),  # ANSWERED, NO ANSWER, NORMAL_CLEARING...; null: generic
    }
)
# What ingest_cdr returns: the calls, and which are named by their record (no switch id). Such
# a call's id is its record's text, so the same id is the same record, never a correction of
# it (a warehouse stores the calls, not the flag: docs/cdr.md#corrected-calls).
# ``former_call_id``: the id releases before this one gave a call named by its record, where
# the naming changed since (Asterisk, _name_by_record), so that calls stored under it are
# still recognised; null otherwise.
CDR_ROW_SCHEMA = pl.Schema(
    {**CDR_CALL_SCHEMA, "named_by_record": pl.Boolean(), "former_call_id": pl.String()}
)


@dataclass(frozen=True)
class Layout:
    """Where the fields of a headerless switch export are (0-based columns)."""

    min_fields: int
    number: int
    started_at: int
    duration: int
    billsec: int
    disposition: int
    call_id: int | None
    answered: str | None  # the disposition a call must have to bill; None: billsec > 0 says
    record: tuple[int, ...]  # the fields whose raw text names a call without an id
    attempt: int | None = None  # the field telling apart attempts under one call id
    former_record: tuple[int, ...] | None = None  # ``record`` of releases before, if another


# Asterisk: ANSWERED (billsec alone is not enough: it counts from when party A was answered,
# which the PBX itself may do, e.g. an IVR, before a Dial that never connects). A call without
# uniqueid is named by start, channel and dstchannel: a channel name carries Asterisk's own
# sequence number (PJSIP/1001-00000007), unique while the process runs, so those three name
# one Dial attempt, and a re-export of it with other seconds is a conflict, not a new call.
# Releases before named it by start, dst, duration, billsec, disposition and channel
# (former_record), which made a corrected re-export a second call.
# With loguniqueid, Asterisk 12+ writes one CDR per Dial attempt, all under party A's uniqueid
# (a failover dialplan: trunk 1 FAILED, then CommPeak ANSWERED): the dstchannel tells the
# attempts apart (_name_attempts).
ASTERISK = Layout(16, number=2, started_at=9, duration=12, billsec=13, disposition=14,
                  call_id=16, answered="ANSWERED", record=(9, 5, 6), attempt=6,
                  former_record=(9, 2, 12, 13, 14, 5))  # fmt: skip
# FreeSWITCH: billsec is 0 unless the call was answered, whatever the hangup cause. A call
# without uuid is named by start, destination, duration, billsec, hangup cause and caller.
FREESWITCH = Layout(15, number=2, started_at=4, duration=7, billsec=8, disposition=9,
                    call_id=10, answered=None, record=(4, 2, 7, 8, 9, 1))  # fmt: skip
LAYOUTS = {"asterisk": ASTERISK, "freeswitch": FREESWITCH}
NO_CALL_HINT = "; is cdr.format right?"  # a file of no usable call is usually another format
# The moments a call can start at (UTC, the end excluded): a call is costed on its UTC day as
# [day, day + 1), so that day and the day after must exist (9999-12-31 has no day after), and
# nothing was dialled before 1970. A start outside is a reject, for the carrier's export too.
FIRST_START = datetime(1970, 1, 1, tzinfo=UTC)
END_OF_STARTS = datetime(9999, 12, 31, tzinfo=UTC)
OUT_OF_RANGE = "out of range (1970-01-01 to 9999-12-30, UTC)"


@dataclass(frozen=True)
class Routing:
    """How a call finds its tech prefix: the dialled number's head when it starts with one of
    ``tech_prefixes`` (the switch sends tech prefix + number), else its column, else the
    default."""

    tech_prefixes: Sequence[str]  # configured digit tech prefixes ("current" never dials)
    default: str

    @cached_property
    def dialled(self) -> tuple[str, ...]:
        """The tech prefixes a number can start with, longest first."""
        digits = (p for p in self.tech_prefixes if p.isdigit())
        return tuple(sorted(digits, key=len, reverse=True))

    def split(self, digits: str, column: str | None) -> tuple[str, str]:
        """(tech_prefix, number) of a dialled number (digits)."""
        for prefix in self.dialled:
            if digits.startswith(prefix) and len(digits) > len(prefix):
                return prefix, digits[len(prefix) :]
        return (column or self.default), digits


@dataclass(frozen=True)
class GenericColumns:
    number: str
    seconds: str
    started_at: str
    tech_prefix: str | None = None
    call_id: str | None = None


@dataclass(frozen=True)
class FieldNames:
    """What a reject's reason calls a field: the switch formats' own names, or a generic
    file's columns as the user named them (``[cdr.columns]``)."""

    number: str = "number"
    billsec: str = "billsec"
    tech_prefix: str = "tech_prefix"


SWITCH_NAMES = FieldNames()


def generic_names(columns: GenericColumns) -> FieldNames:
    return FieldNames(columns.number, columns.seconds, columns.tech_prefix or "tech_prefix")


class BadField(ValueError):
    """One field of one row is unusable; the message is the reject reason."""


def ingest_cdr(
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
    if cdr_format == "generic":
        columns = columns or GenericColumns("number", "seconds", "started_at")
        calls = _generic_calls(data, source, columns, parquet=parquet)
    else:
        calls = _switch_calls(data, source, LAYOUTS[cdr_format])
    checked = _fast_check(calls, routing, zone)
    fast = checked.filter(pl.col("_fast")).drop("_fast")
    unproven = checked.filter(~pl.col("_fast"))["row_number"].to_list()
    slow_rows, rejects = _word_rows(calls, unproven, routing, zone)
    rows = _name_attempts(pl.concat([fast, slow_rows]).sort("row_number"), calls)
    return _result(source, cdr_format, _name_by_record(rows, calls), rejects, parquet=parquet)


# -- reading the formats --------------------------------------------------------------------
Record = tuple[Any, dict[str, str | None]]  # raw values, canonical fields
RecordsOf = Callable[[list[int]], list[Record]]  # row numbers -> their records
TEXT_FIELDS = ("number", "started_at", "billsec", "duration", "disposition", "call_id",
               "tech_prefix")  # fmt: skip


@dataclass(frozen=True)
class RawCalls:
    """A file's non-blank rows as text (``TEXT_FIELDS``, ``row_number``, ``_complete``: the row
    has every field its format needs), the raw text naming each of those rows
    (``record_text``, see ``_name_by_record``; only computed when a call has no id) and, for
    the rows the fast check cannot take, the exact raw values and canonical fields one row at
    a time would have read (``records``)."""

    fields: pl.DataFrame
    record_text: Callable[[], pl.Series]
    records: RecordsOf
    answered: str | None
    has_duration: bool
    names: FieldNames = SWITCH_NAMES
    # the raw text of each row's attempt field (Layout.attempt), as record_text; None: none
    attempt_text: Callable[[], pl.Series] | None = None
    # the naming text of releases before (Layout.former_record); None: the same as record_text
    former_record_text: Callable[[], pl.Series] | None = None


def _switch_calls(data: bytes, source: str, layout: Layout) -> RawCalls:
    if b"\x00" in data[:4096]:
        raise UnrecognisedFormatError(f"{source}: binary data, not a CSV call record file")
    utf8 = data if _is_utf8(data) else data.decode("latin-1").encode("utf-8")
    frame = _polars_records(utf8, layout)
    if frame is None:
        return _python_switch_calls(_text(data, source), source, layout)
    named = _switch_columns(frame, layout).with_columns(
        pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias("row_number"),
        frame.select(_complete(frame, layout)).to_series(),
    )
    lines = _LineIndex(utf8)
    kept = ~_blank_rows(frame, layout)
    return RawCalls(
        fields=named.filter(kept),
        record_text=lambda: _polars_record_text(frame.filter(kept), layout.record),
        records=lambda rows: [
            _switch_record(values, layout) for values in _switch_values(frame, lines, rows)
        ],
        answered=layout.answered,
        has_duration=True,
        attempt_text=None
        if layout.attempt is None
        else lambda: _column_text(frame.filter(kept), layout.attempt),
        former_record_text=None
        if layout.former_record is None
        else lambda: _polars_record_text(frame.filter(kept), layout.former_record or ()),
    )


def _polars_record_text(frame: pl.DataFrame, fields: tuple[int, ...]) -> pl.Series:
    return frame.select(record_text([pl.col(frame.columns[index]) for index in fields])).to_series()


def _column_text(frame: pl.DataFrame, index: int | None) -> pl.Series:
    """Field ``index`` of every record as written (missing: empty)."""
    if index is None or index >= frame.width:
        return pl.Series(values=[""] * frame.height, dtype=pl.String)
    return frame[frame.columns[index]].fill_null("")


def _is_utf8(data: bytes) -> bool:
    if data.isascii():  # the common case, and much cheaper than decoding
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False  # a caller id name in a legacy charset: read as Latin-1, as before
    return True


def _polars_records(utf8: bytes, layout: Layout) -> pl.DataFrame | None:
    """The records as polars reads them, or None when that read could differ from Python's
    ``csv`` module: a CR that ends no line (``csv`` ends a record there, polars does not), a
    quote where RFC 4180 has none (the two read those differently), a row wider than the first
    (polars refuses it), a record over several lines (a line number then is not a record
    number), or rows too short to be calls at all (every row is a reject: the row-by-row
    reader words them)."""
    if b"\r" in utf8 and utf8.count(b"\r") != utf8.count(b"\r\n"):
        return None
    if not _quotes_conform(utf8):
        return None
    try:
        frame = pl.read_csv(utf8, has_header=False, infer_schema=False)
    except (pl.exceptions.PolarsError, OSError):
        return None
    lines = utf8.count(b"\n") + (0 if utf8.endswith(b"\n") else 1)
    if frame.height != lines or frame.width < layout.min_fields:
        return None
    return frame


_QUOTE, _COMMA, _LF, _CR = 34, 44, 10, 13  # bytes; none occurs inside a UTF-8 sequence
_CHUNK = 1 << 24


def _quotes_conform(utf8: bytes) -> bool:
    """Whether every quote is where RFC 4180 puts one, so that polars and ``csv`` read the same
    fields: counting quotes from the start, an odd one (opening a field, or the second of an
    escaped pair) follows a comma, a line end, another quote or the start; an even one
    (closing, or the first of a pair) precedes a comma, a line end, another quote or the end;
    and the count ends even (no quote left open). Vectorised over the bytes, in chunks."""
    data = np.frombuffer(utf8, dtype=np.uint8)
    start_of_data = 3 if utf8.startswith(b"\xef\xbb\xbf") else 0  # csv reads past the BOM
    last = len(data) - 1
    seen = 0
    for start in range(0, len(data), _CHUNK):
        quotes = np.flatnonzero(data[start : start + _CHUNK] == _QUOTE) + start
        opening, closing = quotes[seen % 2 :: 2], quotes[1 - seen % 2 :: 2]
        seen += len(quotes)
        before = data[np.maximum(opening - 1, 0)]
        if not (
            (opening == start_of_data) | (before == _COMMA) | (before == _LF) | (before == _QUOTE)
        ).all():
            return False
        after = data[np.minimum(closing + 1, last)]
        crlf = (after == _CR) & (data[np.minimum(closing + 2, last)] == _LF) & (closing + 2 <= last)
        if not (
            (closing == last) | (after == _COMMA) | (after == _LF) | (after == _QUOTE) | crlf
        ).all():
            return False
    return seen % 2 == 0


def _switch_columns(frame: pl.DataFrame, layout: Layout) -> pl.DataFrame:
    def column(index: int | None) -> pl.Expr:
        if index is None or index >= frame.width:
            return pl.lit(None, dtype=pl.String)
        return pl.col(frame.columns[index])

    return frame.select(
        column(layout.number).alias("number"),
        column(layout.started_at).alias("started_at"),
        column(layout.billsec).alias("billsec"),
        column(layout.duration).alias("duration"),
        column(layout.disposition).alias("disposition"),
        column(layout.call_id).alias("call_id"),
        pl.lit(None, dtype=pl.String).alias("tech_prefix"),
    )


def _complete(frame: pl.DataFrame, layout: Layout) -> pl.Expr:
    # polars reads a missing trailing field and an empty unquoted one both as null: only a
    # value in the last required column proves the row long enough
    return pl.col(frame.columns[layout.min_fields - 1]).is_not_null().alias("_complete")


def _blank_rows(frame: pl.DataFrame, layout: Layout) -> pl.Series:
    """Blank rows (``blank_rows``): no call. Most rows have a number: it is looked at first."""
    return blank_rows(frame, frame.columns[layout.number])


class _LineIndex:
    """Line ``n`` (1-based) of UTF-8 bytes whose records are one line each, as text."""

    def __init__(self, utf8: bytes) -> None:
        self._utf8 = utf8
        self._ends: np.ndarray | None = None

    def line(self, number: int) -> str:
        if self._ends is None:  # only when a row needs the row-by-row reader
            self._ends = np.flatnonzero(np.frombuffer(self._utf8, dtype=np.uint8) == 10)
        start = 0 if number == 1 else int(self._ends[number - 2]) + 1
        end = int(self._ends[number - 1]) if number - 1 < len(self._ends) else len(self._utf8)
        return self._utf8[start:end].decode("utf-8-sig" if number == 1 else "utf-8")


def _switch_values(frame: pl.DataFrame, lines: _LineIndex, rows: list[int]) -> list[list[str]]:
    """The values ``csv`` reads from each row: polars' own where no field is null (then the
    row has exactly the frame's fields, each as read), else from the row's line."""
    picked = frame[[row - 1 for row in rows]]
    whole = picked.select(~pl.any_horizontal(pl.all().is_null())).to_series().to_list()
    return [
        list(values) if is_whole else _parse_line(lines.line(row))
        for row, values, is_whole in zip(rows, picked.rows(), whole, strict=True)
    ]


def _parse_line(line: str) -> list[str]:
    return next(csv.reader([line.rstrip("\r\n")]), [])


def _switch_record(values: list[str], layout: Layout) -> tuple[Any, dict[str, str | None]]:
    """The raw values and canonical fields of one switch record (the row-by-row reading)."""
    if len(values) < layout.min_fields:
        problem = f"{len(values)} field(s), expected at least {layout.min_fields}"
        return values, {"problem": problem}
    return values, {
        "number": values[layout.number],
        "started_at": values[layout.started_at],
        "duration": values[layout.duration],
        "billsec": values[layout.billsec],
        "disposition": values[layout.disposition],
        "answered": layout.answered,
        "call_id": _at(values, layout.call_id),
    }


def _python_switch_calls(text: str, source: str, layout: Layout) -> RawCalls:
    """The records as Python's ``csv`` module reads them (files polars cannot be trusted on)."""
    records: dict[int, list[str]] = {}
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for line, values in enumerate(reader, start=1):
            if any(v.strip() for v in values):  # a blank line is no call
                records[line] = values
    except csv.Error as exc:
        raise UnrecognisedFormatError(f"{source}: line {reader.line_num}: {exc}") from None
    wanted: list[int | None] = [layout.number, layout.started_at, layout.billsec]
    wanted += [layout.duration, layout.disposition, layout.call_id, None]
    fields = pl.DataFrame(
        {
            **{
                name: [_at(values, index) for values in records.values()]
                for name, index in zip(TEXT_FIELDS, wanted, strict=True)
            },
            "row_number": list(records),
            "_complete": [len(values) >= layout.min_fields for values in records.values()],
        },
        schema={
            **dict.fromkeys(TEXT_FIELDS, pl.String),
            "row_number": pl.Int64,
            "_complete": pl.Boolean,
        },  # fmt: skip
    )

    def raw_record_text(indices: tuple[int, ...]) -> pl.Series:
        raw = pl.DataFrame(
            {str(i): [_at(values, i) for values in records.values()] for i in indices},
            schema=dict.fromkeys(map(str, indices), pl.String),
        )
        return raw.select(record_text(list(map(pl.col, raw.columns)))).to_series()

    return RawCalls(
        fields=fields,
        record_text=lambda: raw_record_text(layout.record),
        former_record_text=None
        if layout.former_record is None
        else lambda: raw_record_text(layout.former_record or ()),
        records=lambda rows: [_switch_record(records[row], layout) for row in rows],
        answered=layout.answered,
        has_duration=True,
        attempt_text=lambda: pl.Series(
            values=[_at(values, layout.attempt) or "" for values in records.values()],
            dtype=pl.String,
        ),
    )


def _generic_calls(data: bytes, source: str, columns: GenericColumns, *, parquet: bool) -> RawCalls:
    wanted = _generic_columns(columns)
    table = _generic_table(data, source, wanted, parquet=parquet)
    frame = table.frame
    first = 1 if parquet else 2  # a CSV's line 1 is its header
    texts = {key: _as_text(frame, name) for key, name in wanted.items()}
    texts["billsec"] = _as_text(frame, columns.seconds, as_value=_seconds_text)
    numbered = pl.DataFrame(
        {
            **{key: texts.get(key, _as_text(frame, None)) for key in TEXT_FIELDS},
            "row_number": pl.int_range(first, first + frame.height, eager=True, dtype=pl.Int64),
            "_complete": table.trusted,
        },
        schema={
            **dict.fromkeys(TEXT_FIELDS, pl.String),
            "row_number": pl.Int64,
            "_complete": pl.Boolean,
        },  # fmt: skip
    )
    fields = table.without_blank(numbered)  # a blank row is no call (numbered first: lines)

    def records(rows: list[int]) -> list[Record]:
        at = [row - first for row in rows]
        picked = frame[at].rows(named=True)
        return [
            (raw, _generic_fields(raw, wanted, problem))
            for raw, problem in zip(picked, table.reasons(at), strict=True)
        ]

    named_by = [pl.col(key) for key in ("started_at", "number", "billsec", "tech_prefix")]
    return RawCalls(
        fields=fields,
        record_text=lambda: fields.select(record_text(named_by)).to_series(),
        records=records,
        answered=None,
        has_duration=False,
        names=generic_names(columns),
    )


def _generic_columns(columns: GenericColumns) -> dict[str, str | None]:
    """The column each canonical field is read from (None: unmapped)."""
    return {
        "number": columns.number,
        "started_at": columns.started_at,
        "billsec": columns.seconds,
        "tech_prefix": columns.tech_prefix,
        "call_id": columns.call_id,
    }


def _generic_fields(
    raw: dict[str, Any], wanted: dict[str, str | None], problem: str | None = None
) -> dict[str, str | None]:
    """The canonical fields of one generic row, as text (the row-by-row reading); a row whose
    fields cannot be trusted (``problem``: more than the header) has none."""
    if problem is not None:
        return {"problem": problem}
    fields = {key: _text_value(raw[name]) if name else None for key, name in wanted.items()}
    fields["billsec"] = _seconds_text(raw[wanted["billsec"] or ""])
    return fields


def _as_text(
    frame: pl.DataFrame, name: str | None, as_value: Callable[[object], str | None] | None = None
) -> pl.Series:
    """A column as the text ``as_value`` (default ``_text_value``) makes of each value (null
    stays null)."""
    if name is None:
        return pl.Series(values=[None] * frame.height, dtype=pl.String)
    column = frame[name]
    if column.dtype == pl.String:
        return column
    if column.dtype.is_integer():  # str(int) is the integer's digits, as polars writes them
        return column.cast(pl.String)
    as_value = as_value or _text_value
    return pl.Series(values=[as_value(v) for v in column.to_list()], dtype=pl.String)


def _seconds_text(value: object) -> str | None:
    """Seconds as text: a float or decimal that is a whole number exactly (61.0: pandas writes
    an integer column holding a NaN as floats) is its digits, tested exactly, never rounded;
    any other value as ``_text_value`` writes it (61.5 is then a reject naming it)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return str(int(value))
    return _text_value(value)


def _generic_table(
    data: bytes, source: str, wanted: dict[str, str | None], *, parquet: bool
) -> HeaderCsv:
    """A generic file's rows (and, for a CSV, which rows are too wide to trust), every mapped
    column there. A file of no bytes (or a CSV of blank lines only) is an empty export: no
    row, not a refusal (docs/cdr.md#bad-rows)."""
    if parquet:
        table = HeaderCsv(_parquet_frame(data, source) if data else pl.DataFrame())
    else:
        table = read_header_csv(data, source)
    named = (name for name in wanted.values() if name)
    return require_columns(table, named, source, "cdr.columns")


def _parquet_frame(data: bytes, source: str) -> pl.DataFrame:
    try:
        return pl.read_parquet(io.BytesIO(data))
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise UnrecognisedFormatError.unreadable(source, "Parquet", exc) from None


# -- the fast check: rows whose every field is plainly good, converted in bulk ---------------
# Python's str.strip() strips exactly these (every c with chr(c).isspace(); a test checks the
# list against Python): the whitespace a number may carry (phone.WHITESPACE)
PY_WHITESPACE = WHITESPACE
# digits and ASCII separators only (see phone.py), no space at either end (nothing to strip):
# other whitespace and the invisible characters phone.py drops go the row-by-row way
PLAIN_NUMBER = r"^[0-9+\-.()\[\]](?:[0-9 +\-.()\[\]]*[0-9+\-.()\[\]])?$"
SEPARATORS = r"[ +\-.()\[\]]"
FLOAT_LIKE = r"^\+?[0-9]+\.0+$"
# a "(0)" may be a trunk zero to drop ("+44 (0) 20", phone.TRUNK_ZERO): such a number goes the
# row-by-row way, which applies the rule (switches hardly ever write one)
TRUNK_ZERO_MARK = "(0)"
WHOLE_SECONDS = r"^[0-9]{1,9}$"
_ISO_TIME = (
    r"^([0-9]{4})-([0-9]{2}-[0-9]{2})[T ]((?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(?:\.[0-9]{3}|\.[0-9]{6})?)(Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?$"
)
_PLAIN_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} (?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"
_ASCII = r"^(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?$"  # and nothing to strip


def stripped(name: str) -> pl.Expr:
    return pl.col(name).str.strip_chars(PY_WHITESPACE)


def none_if_empty(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr != "").then(expr)


def _fast_check(calls: RawCalls, routing: Routing, zone: ZoneInfo) -> pl.DataFrame:
    """Every row with its values where the fast check holds (``_fast``); a row it does not
    prove good keeps ``_fast`` false and goes to ``_word_rows``."""
    # the fast check takes only values with nothing to strip (a number, a time, seconds, a
    # disposition): the rest go the row-by-row way
    started = calls.fields["started_at"]
    frame = calls.fields.lazy().with_columns(
        started_at_column(started, zone),
        pl.col("number").alias("dialled"),
        whole_seconds_column("billsec").alias("billsec"),
        whole_seconds_column("duration").alias("duration_seconds"),
        none_if_empty(pl.col("disposition")).alias("disposition"),
        none_if_empty(stripped("call_id")).alias("call_id"),
        none_if_empty(stripped("tech_prefix")).alias("_column_route"),
    )
    frame = frame.with_columns(
        plain_number_digits(pl.col("dialled").str.replace_all(SEPARATORS, "")).alias("_digits")
    )
    frame = frame.with_columns(*_route(routing))
    answered = (
        pl.lit(True)
        if calls.answered is None
        # ASCII (the fast check insists), so polars' upper case is Python's
        else pl.col("disposition").str.to_uppercase().eq_missing(pl.lit(calls.answered))
    )
    duration_ok = (
        pl.col("duration_seconds").is_not_null() & (pl.col("billsec") <= pl.col("duration_seconds"))
        if calls.has_duration
        else pl.lit(True)
    )
    fast = (
        pl.col("_complete")
        & pl.col("dialled").str.contains(PLAIN_NUMBER).fill_null(False)
        & ~pl.col("dialled").str.contains(FLOAT_LIKE).fill_null(True)
        & ~pl.col("dialled").str.contains(TRUNK_ZERO_MARK, literal=True).fill_null(True)
        & pl.col("_digits").str.contains(r"^[0-9]+$").fill_null(False)
        & (pl.col("number") != "")  # "00" alone after a tech prefix: no digits
        & (pl.col("tech_prefix").str.contains(r"^[0-9]+$") | (pl.col("tech_prefix") == "current"))
        & pl.col("billsec").is_not_null()
        & duration_ok
        & start_in_range(pl.col("started_at"))
        & pl.col("disposition").str.contains(_ASCII).fill_null(True)
    ).fill_null(False)
    return (
        frame.with_columns(
            fast.alias("_fast"),
            ((pl.col("billsec") > 0) & answered).fill_null(False).alias("billable"),
        )
        .select(*CDR_CALL_SCHEMA.names(), "_fast")
        .collect()
    )


def start_in_range(started_at: pl.Expr) -> pl.Expr:
    """Whether a UTC start is one a call can have (``FIRST_START``, ``END_OF_STARTS``); null
    stays null. Outside, the row-by-row rules word the reject."""
    return started_at.is_between(pl.lit(FIRST_START), pl.lit(END_OF_STARTS), closed="left")


def whole_seconds_column(name: str) -> pl.Expr:
    value = pl.col(name)
    return pl.when(value.str.contains(WHOLE_SECONDS)).then(value.cast(pl.Int64, strict=False))


def _route(routing: Routing) -> tuple[pl.Expr, pl.Expr]:
    """(tech_prefix, number) as ``_call`` gives them: ``Routing.split``, and the number after a
    dialled tech prefix normalised (the digits must be plain)."""
    digits = pl.col("_digits")
    tech_prefix = pl.coalesce(pl.col("_column_route"), pl.lit(routing.default))
    number = digits
    for prefix in reversed(routing.dialled):  # the longest ends outermost: it is tried first
        starts = digits.str.starts_with(prefix) & (digits.str.len_chars() > len(prefix))
        tech_prefix = pl.when(starts).then(pl.lit(prefix)).otherwise(tech_prefix)
        after = plain_number_digits(digits.str.slice(len(prefix)))
        number = pl.when(starts).then(after).otherwise(number)
    return tech_prefix.alias("tech_prefix"), number.alias("number")


def started_at_column(started: pl.Series, zone: ZoneInfo) -> pl.Series:
    """``utc_moment`` for plain ISO times (``_ISO_TIME``); null for anything else. Switches
    write ``YYYY-MM-DD HH:MM:SS``: those are parsed in one pass, the rest (a ``T``, a fraction,
    an offset) through the regex groups."""
    plain = started.str.contains(_PLAIN_TIME).fill_null(False) & started.str.slice(0, 4).is_between(
        pl.lit("0002"), pl.lit("9998")
    ).fill_null(False)
    naive = (
        pl.DataFrame({"text": started, "plain": plain})
        .select(
            pl.when("plain").then(
                pl.col("text").str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)
            )
        )
        .to_series()
    )
    utc = _local_to_utc(naive, zone).dt.replace_time_zone("UTC")
    others = (~plain).arg_true()
    if len(others):
        utc = utc.scatter(others, _iso_started_at(started.gather(others), zone))
    return utc.alias("started_at")


def _iso_started_at(started: pl.Series, zone: ZoneInfo) -> pl.Series:
    parts = (
        started.str.extract_groups(_ISO_TIME)
        .struct.rename_fields(["year", "rest", "clock", "offset"])
        .struct.unnest()
    )
    naive = parts.select(
        # years 1 and 9999 can leave the calendar when moved to UTC: the row-by-row path
        # decides those
        pl.when(pl.col("year").is_between(pl.lit("0002"), pl.lit("9998")))
        .then(
            pl.concat_str("year", pl.lit("-"), "rest", pl.lit(" "), "clock").str.strptime(
                pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f", strict=False
            )
        )
        .alias("naive")
    ).to_series()
    offset = pl.col("offset")
    minutes = (
        offset.str.slice(1, 2).cast(pl.Int64) * 60 + offset.str.slice(4, 2).cast(pl.Int64)
    ) * pl.when(offset.str.starts_with("-")).then(-1).otherwise(1)
    frame = pl.DataFrame(
        {"naive": naive, "offset": parts["offset"], "local": _local_to_utc(naive, zone)}
    )
    return frame.select(
        pl.when(offset.is_null())
        .then(pl.col("local"))
        .when(offset == "Z")
        .then(pl.col("naive"))
        .otherwise(pl.col("naive") - pl.duration(minutes=minutes))
        .dt.replace_time_zone("UTC")
        .cast(UTC_TS)
    ).to_series()


def _local_to_utc(naive: pl.Series, zone: ZoneInfo) -> pl.Series:
    """Naive times read in ``zone``, in UTC, naive; null where a minute holds a clock change.

    The offset comes from ``zoneinfo`` (the rules ``utc_moment`` uses), once per distinct
    minute: offsets change on whole seconds, so a minute whose first and last second have the
    same offset, and exist, has that offset throughout."""
    if zone.key == "UTC":
        return naive
    minutes = naive.dt.truncate("1m")
    distinct = minutes.drop_nulls().unique()
    offsets = [_minute_offset(minute, zone) for minute in distinct.to_list()]
    table = pl.DataFrame(
        {"minute": distinct, "offset": pl.Series(offsets, dtype=pl.Duration("us"))}
    )
    joined = pl.DataFrame({"minute": minutes}).join(table, on="minute", how="left")
    return naive - joined["offset"]


def _minute_offset(minute: datetime, zone: ZoneInfo) -> timedelta | None:
    first, last = _utc_offset(minute, zone), _utc_offset(minute + timedelta(seconds=59), zone)
    return first if first is not None and first == last else None


def _utc_offset(moment: datetime, zone: ZoneInfo) -> timedelta | None:
    try:
        in_utc = moment.replace(tzinfo=zone).astimezone(UTC)
    except OverflowError:
        return None
    if in_utc.astimezone(zone).replace(tzinfo=None) != moment:
        return None  # skipped by the clock
    return moment - in_utc.replace(tzinfo=None)


def _word_rows(
    calls: RawCalls, unproven: list[int], routing: Routing, zone: ZoneInfo
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows the fast check could not take, one at a time: (calls, rejects with reasons)."""
    rows: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []
    for row_number, (raw, fields) in zip(unproven, calls.records(unproven), strict=True):
        try:
            call = _call(fields, routing, zone, calls.names)
            rows.append({"row_number": row_number, **call})
        except BadField as exc:
            rejects.append(reject_row(row_number, raw, str(exc)))
    return (
        pl.DataFrame(rows, schema=CDR_CALL_SCHEMA, orient="row"),
        pl.DataFrame(rejects, schema=REJECT_SCHEMA, orient="row"),
    )


# -- one call -------------------------------------------------------------------------------
def _call(
    fields: dict[str, str | None],
    routing: Routing,
    zone: ZoneInfo,
    names: FieldNames = SWITCH_NAMES,
) -> dict[str, Any]:
    if "problem" in fields:
        raise BadField(str(fields["problem"]))
    dialled = (fields["number"] or "").strip()
    digits, problem = number_problem(dialled or None)
    if digits is None:
        raise BadField(f"{names.number} {dialled!r}: {problem}")
    tech_prefix, number = routing.split(digits, _blank_to_none(fields.get("tech_prefix")))
    if len(number) < len(digits):  # what follows a dialled tech prefix is a number as dialled
        after, problem = number_problem(number)  # one leading 00 goes, as anywhere
        if after is None:
            raise BadField(f"{names.number} {dialled!r}: {problem} after tech prefix {tech_prefix}")
        number = after
    if not (tech_prefix == "current" or tech_prefix.isdigit()):
        raise BadField(f"{names.tech_prefix} {tech_prefix!r}: must be 'current' or digits")
    billsec = whole_seconds(fields["billsec"], names.billsec)
    duration = whole_seconds(fields["duration"], "duration") if "duration" in fields else None
    if duration is not None and billsec > duration:
        raise BadField(f"billsec {billsec} exceeds duration {duration}")
    disposition = _blank_to_none(fields.get("disposition"))
    answered = fields.get("answered")
    billable = billsec > 0 and (answered is None or (disposition or "").upper() == answered)
    return {
        "call_id": _blank_to_none(fields.get("call_id")),
        "started_at": utc_moment(fields["started_at"], zone),
        "dialled": dialled,
        "number": number,
        "tech_prefix": tech_prefix,
        "duration_seconds": duration,
        "billsec": billsec,
        "billable": billable,
        "disposition": disposition,
    }


def whole_seconds(text: str | None, name: str) -> int:
    """Whole seconds >= 0 from a field named ``name``; BadField otherwise."""
    value = (text or "").strip()
    if not value:
        raise BadField(f"{name}: empty")
    # isdecimal, not isdigit: "²" is a digit that int() refuses (it crashed the import)
    if not value.isdecimal() or len(value) > 9:  # whole seconds; a 31-year call is a typo
        raise BadField(f"{name} {value!r}: expected whole seconds >= 0")
    return int(value)


def utc_moment(text: str | None, zone: ZoneInfo) -> datetime:
    """A start time in UTC: an offset is kept, a naive time is read in ``zone``."""
    value = (text or "").strip()
    if not value:
        raise BadField("start time: empty")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadField(f"start time {value!r}: expected YYYY-MM-DD HH:MM:SS") from None
    try:
        # fold=0: a repeated hour reads as its first pass
        in_utc = (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)
    except OverflowError:  # year 1 or 9999 moved past the calendar's end
        raise BadField(f"start time {value!r}: {OUT_OF_RANGE}") from None
    if not FIRST_START <= in_utc < END_OF_STARTS:
        raise BadField(f"start time {value!r}: {OUT_OF_RANGE}")
    if moment.tzinfo is None and in_utc.astimezone(zone).replace(tzinfo=None) != moment:
        raise BadField(f"start time {value!r}: does not exist in {zone.key} (clock change)")
    return in_utc


# -- naming calls without an id ------------------------------------------------------------
def record_text(fields: Sequence[pl.Expr]) -> pl.Expr:
    """The raw text of a record's naming fields, as written in the file (an empty or missing
    field is empty), ``|`` between them (``\\`` and ``|`` inside a field escaped with ``\\``, so
    that two different records never read the same)."""
    escaped = (
        field.fill_null("")
        .str.replace_all("\\", "\\\\", literal=True)
        .str.replace_all("|", "\\|", literal=True)
        for field in fields
    )
    return pl.concat_str(escaped, separator="|")


def record_keys(texts: pl.Series) -> pl.Series:
    """``<text>#<n>``: each record's text numbered among the identical records before it in
    the file (``#1``, ``#2``, in file order), so two identical records stay two calls and an
    append-only file numbers them the same way every time it is read."""
    keys = texts + "#1"
    # candidates found on the texts' hashes: 4x quicker than comparing the texts (1M Asterisk
    # records: 0.09 s against 0.3 s). polars' hash is only stable within one version, and it is
    # never stored: a collision merely sends a unique text to the numbering below, which
    # counts by the text itself
    repeated = texts.hash().is_duplicated().arg_true()
    if not len(repeated):  # the common case: numbering each text is 4x the cost of this check
        return keys
    occurrence = pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("text").cast(pl.String)
    numbered = pl.DataFrame({"text": texts.gather(repeated)}).select(
        pl.concat_str("text", pl.lit("#"), occurrence)
    )
    return keys.scatter(repeated, numbered.to_series())


def _name_attempts(rows: pl.DataFrame, calls: RawCalls) -> pl.DataFrame:
    """Calls of one switch id made as several attempts (Asterisk's Dial attempts of a failover,
    each its own CDR under party A's uniqueid, docs/cdr.md#formats) told apart: the id's first
    attempt in the file (its first attempt field, in file order) keeps the bare id, the id
    releases before gave it, so calls stored then are still the same calls; an attempt to
    another channel is ``<id>|<attempt>`` (as ``record_text`` writes two fields). So a grown
    append-only file names them as before, and a re-export of one attempt with other values
    still conflicts with it. Counted over every record with an id, rejected ones too, so the
    names do not depend on the settings."""
    if calls.attempt_text is None or not rows["call_id"].drop_nulls().is_duplicated().any():
        return rows  # the common case: no id has two records, so none has two attempts
    records = calls.fields.select(
        "row_number", none_if_empty(stripped("call_id")).alias("_id")
    ).with_columns(calls.attempt_text().alias("_attempt"))
    first = (
        records.filter(pl.col("_id").is_not_null())
        .group_by("_id", maintain_order=True)
        .agg(pl.col("_attempt").first().alias("_first"))
    )
    named = records.join(first, on="_id", how="left").select(
        "row_number",
        pl.when(pl.col("_attempt") != pl.col("_first"))
        .then(record_text([pl.col("_id"), pl.col("_attempt")]))
        .alias("_attempt_id"),
    )
    return (
        rows.join(named, on="row_number", how="left", maintain_order="left")
        .with_columns(pl.coalesce("_attempt_id", "call_id").alias("call_id"))
        .drop("_attempt_id")
    )


def _name_by_record(rows: pl.DataFrame, calls: RawCalls) -> pl.DataFrame:
    """Calls without a switch id named by their record (docs/cdr.md#formats): the raw text of
    their naming fields and their occurrence in the file. Not by the file (its sha256 and the
    row): a grown append-only file (Asterisk's Master.csv) would name every call anew, and
    not by values read with settings (a changed ``[cdr] timezone`` would too). The occurrence
    counts every non-blank record, rejected ones too, so it does not depend on the settings
    either."""
    unnamed = pl.col("call_id").is_null().alias("named_by_record")
    if not rows["call_id"].has_nulls():
        return rows.with_columns(unnamed, pl.lit(None, dtype=pl.String).alias("former_call_id"))
    keys = pl.DataFrame(
        {
            "row_number": calls.fields["row_number"],
            "_key": record_keys(calls.record_text()),
            "_former": None
            if calls.former_record_text is None
            else record_keys(calls.former_record_text()),
        },
        schema_overrides={"_former": pl.String},
    )
    named = rows.join(keys, on="row_number", how="left", maintain_order="left")
    return named.with_columns(
        unnamed,
        pl.coalesce("call_id", "_key").alias("call_id"),
        pl.when(pl.col("call_id").is_null()).then(pl.col("_former")).alias("former_call_id"),
    ).drop("_key", "_former")


# -- shaping the result ---------------------------------------------------------------------
def _result(
    source: str,
    cdr_format: str,
    rows: pl.DataFrame,
    rejects: pl.DataFrame,
    *,
    parquet: bool,
) -> IngestResult:
    total = rows.height + rejects.height
    result = IngestResult(
        rows=rows.select(CDR_ROW_SCHEMA.names()).cast(CDR_ROW_SCHEMA),
        rejects=rejects,
        source_format=f"{cdr_format}-parquet" if parquet else cdr_format,
        total_rows=total,
    )
    if total and not rows.height:
        raise NoValidRowsError.none_usable(source, "call", total, result, NO_CALL_HINT)
    return result


def reject_row(row_number: int, raw: Any, reason: str) -> dict[str, Any]:
    """A reject (REJECT_SCHEMA) with the row's raw values as JSON."""
    values = raw if isinstance(raw, dict) else {str(i + 1): v for i, v in enumerate(raw)}
    return {
        "row_number": row_number,
        "sheet": None,
        "raw": json.dumps(values, default=str, ensure_ascii=False),
        "reason": reason,
    }


def _text(data: bytes, source: str) -> str:
    if b"\x00" in data[:4096]:
        raise UnrecognisedFormatError(f"{source}: binary data, not a CSV call record file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # a caller id name in a legacy charset: still calls


def _at(values: list[str], index: int | None) -> str | None:
    return values[index] if index is not None and index < len(values) else None


def _text_value(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _blank_to_none(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None
