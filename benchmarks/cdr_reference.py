"""The CDR ingest as it was before it was vectorised: every row read and checked one at a
time in Python (``csv`` for the switch formats). Kept as the reference the vectorised
``pipeline.ingest.cdr.ingest_cdr`` must equal, row for row and reject for reject, with one
deliberate change applied to both: a FreeSWITCH call bills on billsec > 0 (it used to need
hangup cause NORMAL_CLEARING too). Not used by the pipeline.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, Literal
from zoneinfo import ZoneInfo

import polars as pl

from pipeline.ingest.errors import NoValidRowsError, UnrecognisedFormatError
from pipeline.ingest.frames import REJECT_SCHEMA, UTC_TS, IngestResult
from pipeline.ingest.phone import number_problem

CdrFormat = Literal["asterisk", "freeswitch", "generic"]

CDR_CALL_SCHEMA = pl.Schema(
    {
        "row_number": pl.Int64(),  # 1-based line (data row of a generic file)
        "call_id": pl.String(),  # the switch's unique id; null when the export has none
        "started_at": UTC_TS,
        "dialled": pl.String(),  # as the switch sent it (tech prefix included)
        "number": pl.String(),  # digits, without the tech prefix
        "tech_prefix": pl.String(),
        "duration_seconds": pl.Int64(),  # null when the format has no total duration
        "billsec": pl.Int64(),  # talk time the carrier bills
        "billable": pl.Boolean(),
        "disposition": pl.String(),  # ANSWERED, NO ANSWER, NORMAL_CLEARING...; null: generic
    }
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
    answered: str | None  # the disposition of a call that bills; None: billsec > 0


ASTERISK = Layout(16, number=2, started_at=9, duration=12, billsec=13, disposition=14,
                  call_id=16, answered="ANSWERED")  # fmt: skip
FREESWITCH = Layout(15, number=2, started_at=4, duration=7, billsec=8, disposition=9,
                    call_id=10, answered=None)  # fmt: skip
LAYOUTS = {"asterisk": ASTERISK, "freeswitch": FREESWITCH}


@dataclass(frozen=True)
class Routing:
    """How a call finds its tech prefix: the dialled number's head when it starts with one of
    ``tech_prefixes`` (the switch sends tech prefix + number), else its column, else the
    default."""

    tech_prefixes: Sequence[str]  # configured digit tech prefixes ("current" never dials)
    default: str

    @cached_property
    def _dialled(self) -> tuple[str, ...]:
        """The tech prefixes a number can start with, longest first."""
        digits = (p for p in self.tech_prefixes if p.isdigit())
        return tuple(sorted(digits, key=len, reverse=True))

    def split(self, digits: str, column: str | None) -> tuple[str, str]:
        """(tech_prefix, number) of a dialled number (digits)."""
        for prefix in self._dialled:
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


class BadField(ValueError):
    """One field of one row is unusable; the message is the reject reason."""


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
    if cdr_format == "generic":
        records = _generic_records(
            data,
            source,
            columns or GenericColumns("number", "seconds", "started_at"),
            parquet=parquet,
        )
    else:
        records = _switch_records(data, source, LAYOUTS[cdr_format])
    rows: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []
    for row_number, raw, fields in records:
        try:
            rows.append({"row_number": row_number, **_call(fields, routing, zone)})
        except BadField as exc:
            rejects.append(reject_row(row_number, raw, str(exc)))
    return _result(source, cdr_format, rows, rejects, parquet=parquet)


# -- reading the formats --------------------------------------------------------------------
Record = tuple[int, Any, dict[str, str | None]]  # row number, raw values, canonical fields


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
        yield line, values, fields


def _generic_records(
    data: bytes, source: str, columns: GenericColumns, *, parquet: bool
) -> Iterator[Record]:
    frame = _generic_frame(data, source, parquet=parquet)
    _require_columns(frame, columns, source)
    wanted = {
        "number": columns.number,
        "started_at": columns.started_at,
        "billsec": columns.seconds,
        "tech_prefix": columns.tech_prefix,
        "call_id": columns.call_id,
    }
    first = 1 if parquet else 2  # a CSV's line 1 is its header
    for index, raw in enumerate(frame.iter_rows(named=True)):
        fields = {key: _text_value(raw[name]) if name else None for key, name in wanted.items()}
        yield index + first, raw, fields


def _generic_frame(data: bytes, source: str, *, parquet: bool) -> pl.DataFrame:
    try:
        if parquet:
            return pl.read_parquet(io.BytesIO(data))
        return pl.read_csv(io.BytesIO(data), infer_schema=False)
    except (pl.exceptions.PolarsError, OSError) as exc:
        what = "Parquet" if parquet else "CSV"
        raise UnrecognisedFormatError(
            f"{source}: not a readable {what} file: {_first_line(exc)}"
        ) from None


def _require_columns(frame: pl.DataFrame, columns: GenericColumns, source: str) -> None:
    named = [
        columns.number,
        columns.seconds,
        columns.started_at,
        columns.tech_prefix,
        columns.call_id,
    ]
    missing = [name for name in named if name and name not in frame.columns]
    if missing:
        have = ", ".join(frame.columns) or "none"
        raise UnrecognisedFormatError(
            f"{source}: no column {missing[0]!r} (cdr.columns); the file has: {have}"
        )


# -- one call -------------------------------------------------------------------------------
def _call(fields: dict[str, str | None], routing: Routing, zone: ZoneInfo) -> dict[str, Any]:
    if "problem" in fields:
        raise BadField(str(fields["problem"]))
    dialled = (fields["number"] or "").strip()
    digits, problem = number_problem(dialled or None)
    if digits is None:
        raise BadField(f"number {dialled!r}: {problem}")
    tech_prefix, number = routing.split(digits, _blank_to_none(fields.get("tech_prefix")))
    if not (tech_prefix == "current" or tech_prefix.isdigit()):
        raise BadField(f"tech_prefix {tech_prefix!r}: must be 'current' or digits")
    billsec = whole_seconds(fields["billsec"], "billsec")
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
    if not value.isdigit() or len(value) > 9:  # whole seconds; a 31-year call is a typo
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
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    local = moment.replace(tzinfo=zone)  # fold=0: a repeated hour reads as its first pass
    in_utc = local.astimezone(UTC)
    if in_utc.astimezone(zone).replace(tzinfo=None) != moment:
        raise BadField(f"start time {value!r}: does not exist in {zone.key} (clock change)")
    return in_utc


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
        rows=pl.DataFrame(rows, schema=CDR_CALL_SCHEMA, orient="row"),
        rejects=pl.DataFrame(rejects, schema=REJECT_SCHEMA, orient="row"),
        source_format=f"{cdr_format}-parquet" if parquet else cdr_format,
        total_rows=total,
    )
    if total and not rows:
        first = rejects[0]
        raise NoValidRowsError(
            f"{source}: not one usable call in {total} row(s) "
            f"(row {first['row_number']}: {first['reason']}); is cdr.format right?",
            result,
        )
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


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
