"""SMS rate lists: the JSON of ``GET /rates/sms`` -> canonical rows + rejects (pure).

The API answers a JSON list ``[{"rate": 0.05, "mcc": 10, "mnc": 210}, ...]``. Rates are parsed
as ``Decimal`` straight from the JSON text (never float) and refused, not rounded, when they
carry more than 8 decimal places. An empty list is a valid answer (no rates on the channel).
"""

from __future__ import annotations

import json
from decimal import ROUND_DOWN, Decimal
from typing import Any

import polars as pl

from pipeline import exactjson
from pipeline.ingest.errors import NoValidRowsError, UnrecognisedFormatError
from pipeline.ingest.frames import (
    KEYED_REJECT_SCHEMA,
    REFUSED_KEY,
    REPEAT_REASON,
    SMS_RATE_SCHEMA,
    IngestResult,
)
from pipeline.limits import MAX_MCC_MNC

MAX_CODE = MAX_MCC_MNC  # MCC and MNC are at most 3 digits
LISTED_IN_REASON = 5  # rates and row numbers a conflicting duplicate's reason names
SHOWN_CHARS = 40  # of a value quoted in a reason (ingest_reject.raw has all of it)
PRICE_PLACES = Decimal("0.00000001")  # DECIMAL(18, 8)
PRICE_LIMIT = Decimal("10000000000")  # 10 digits before the point
_HTML_STARTS = (b"<!doctype", b"<html", b"<?xml", b"<head", b"<body")


def normalize_sms_rates(data: bytes, *, source: str) -> IngestResult:
    """Parse one SMS rate list. Raises an ingest error when the body is not a JSON list."""
    doc = decode_json(data, source=source)
    if not isinstance(doc, list):
        raise UnrecognisedFormatError(
            f"{source}: expected a JSON list of SMS rates, got a JSON {type(doc).__name__}"
        )
    rows: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []
    for row_number, item in enumerate(doc, start=1):
        try:
            rows.append({"row_number": row_number, **_parse_item(item)})
        except BadValue as exc:
            rejects.append(_reject(row_number, item, str(exc), _readable_pair(item)))
    rows, duplicate_rejects = _resolve_duplicates(rows, doc)
    rejects = sorted(rejects + duplicate_rejects, key=lambda r: r["row_number"])
    notes = []
    if not doc:
        notes.append("empty SMS rate list: the channel has no rates")
    result = IngestResult(
        rows=_frame(rows, SMS_RATE_SCHEMA),
        rejects=_frame(rejects, KEYED_REJECT_SCHEMA),
        source_format="json",
        total_rows=len(doc),
        notes=notes,
    )
    if doc and not rows:
        # loading it would close every rate of the channel: refuse, keep the reasons
        raise NoValidRowsError.none_usable(source, "SMS rate", len(doc), result)
    return result


def _frame(records: list[dict[str, Any]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    # column lists, not row dicts: polars builds Decimal columns from dicts very slowly
    return pl.DataFrame({name: [r[name] for r in records] for name in schema}, schema=schema)


def _parse_item(item: object) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise BadValue(f"row: not a JSON object {quoted(item)}")
    rate = exact_amount(item, "rate")
    if rate < 0:
        raise BadValue(f"rate: negative {quoted(item['rate'])}")
    return {
        "mcc": whole_number(item, "mcc", maximum=MAX_CODE),
        "mnc": whole_number(item, "mnc", maximum=MAX_CODE),
        "rate": rate,
    }


def _resolve_duplicates(
    rows: list[dict[str, Any]], doc: list[Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Same (mcc, mnc) twice: identical rates keep the first row and refuse the later ones as
    ``duplicate of row N`` (as voice decks do); differing rates refuse them all."""
    by_pair: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for row in rows:
        by_pair.setdefault((row["mcc"], row["mnc"]), []).append(row)
    kept, rejects = [], []
    for (mcc, mnc), group in by_pair.items():
        rates = {row["rate"] for row in group}
        if len(rates) == 1:
            first, *repeats = group
            kept.append(first)
            reason = f"{REPEAT_REASON}row {first['row_number']}"
            rejects += [_reject(r["row_number"], doc[r["row_number"] - 1], reason) for r in repeats]
            continue
        reason = f"conflicting duplicate: mcc {mcc} mnc {mnc} has {_conflict(group, rates)}"
        pair = _pair_key(mcc, mnc)
        rejects += [_reject(r["row_number"], doc[r["row_number"] - 1], reason, pair) for r in group]
    kept.sort(key=lambda r: r["row_number"])
    return kept, rejects


def _conflict(group: list[dict[str, Any]], rates: set[Decimal]) -> str:
    """'rates 0.02, 0.03 (rows 3, 4)'; a long group in short (every row is a reject of its own):
    '67 rates from 0.2705 to 0.2802 (rows 1706, 1707, 1708, 1709, 1710 and 62 more)'."""
    ordered = sorted(rates)
    if len(ordered) <= LISTED_IN_REASON:
        shown = "rates " + ", ".join(_plain(rate) for rate in ordered)
    else:
        shown = f"{len(ordered)} rates from {_plain(ordered[0])} to {_plain(ordered[-1])}"
    numbers = [str(row["row_number"]) for row in group]
    listed = ", ".join(numbers[:LISTED_IN_REASON])
    if len(numbers) > LISTED_IN_REASON:
        listed += f" and {len(numbers) - LISTED_IN_REASON} more"
    return f"{shown} (rows {listed})"


def _plain(amount: Decimal) -> str:
    """0.20000000 -> 0.2 (for messages)."""
    return format(amount.normalize(), "f")


def _reject(row_number: int, item: object, reason: str, pair: str | None = None) -> dict[str, Any]:
    return {
        "row_number": row_number,
        "sheet": None,
        "raw": raw_text(item),
        "reason": reason,
        REFUSED_KEY: pair,
    }


def _pair_key(mcc: int, mnc: int) -> str:
    """A refused row's pair as ``ingest_reject.refused_key`` names it: '272-3'."""
    return f"{mcc}-{mnc}"


def _readable_pair(item: object) -> str | None:
    """The pair of a refused row whose MCC and MNC are good (its rate was refused), else None:
    the warehouse keeps that pair's rate in force rather than withdrawing it."""
    if not isinstance(item, dict):
        return None
    try:
        mcc = whole_number(item, "mcc", maximum=MAX_CODE)
        mnc = whole_number(item, "mnc", maximum=MAX_CODE)
    except BadValue:
        return None
    return _pair_key(mcc, mnc)


# -- JSON value helpers (shared with pipeline/ingest/balance.py) ------------------------------


class BadValue(ValueError):
    """One field of one JSON record is unusable; the message names the field and the value."""


class NonFinite:
    """``NaN``/``Infinity`` in the JSON text: kept as a marker so only its row is refused."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __str__(self) -> str:
        return self.name


def decode_json(data: bytes, *, source: str) -> Any:
    """Bytes -> JSON document with every number exact (``int`` or ``Decimal``, never float)."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:64].lower()
    if not head:
        raise UnrecognisedFormatError(f"{source}: empty body, expected JSON")
    if head.startswith(_HTML_STARTS):
        raise UnrecognisedFormatError(f"{source}: an HTML page, not JSON")
    try:
        text = data.decode("utf-8-sig")
        return exactjson.loads(text, parse_constant=NonFinite)
    except UnicodeDecodeError as exc:
        raise UnrecognisedFormatError(
            f"{source}: not UTF-8 text (byte {exc.start}), expected JSON"
        ) from None
    except json.JSONDecodeError as exc:
        raise UnrecognisedFormatError(
            f"{source}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except exactjson.DuplicateKeyError as exc:
        raise UnrecognisedFormatError(f"{source}: {exc}") from None
    except RecursionError:
        raise UnrecognisedFormatError(f"{source}: not valid JSON (nested too deeply)") from None


def exact_amount(record: dict[str, Any], field: str) -> Decimal:
    """A money value: a JSON number with at most 8 decimal places, refused rather than rounded."""
    if field not in record:
        raise BadValue(f"{field}: missing")
    value = record[field]
    if value is None:
        raise BadValue(f"{field}: null")
    # NaN/Infinity (a NonFinite marker) are no JSON number either
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise BadValue(f"{field}: not a JSON number {quoted(value)}")
    amount = Decimal(value)
    # copy_abs, not abs(): abs() rounds to the context and raises Overflow on 1e999999999
    if amount.copy_abs() >= PRICE_LIMIT:
        raise BadValue(f"{field}: more than 10 digits before the point {quoted(value)}")
    if amount != amount.quantize(PRICE_PLACES, rounding=ROUND_DOWN):
        raise BadValue(f"{field}: more than 8 decimal places; refusing to round {quoted(value)}")
    return amount.quantize(PRICE_PLACES)


def whole_number(record: dict[str, Any], field: str, *, maximum: int) -> int:
    """A code such as MCC or MNC: a JSON integer in 0..maximum."""
    if field not in record:
        raise BadValue(f"{field}: missing")
    value = record[field]
    if value is None:
        raise BadValue(f"{field}: null")
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadValue(f"{field}: not a JSON integer {quoted(value)}")
    if not 0 <= value <= maximum:
        raise BadValue(f"{field}: out of range 0-{maximum} {quoted(value)}")
    return value


def quoted(value: object) -> str:
    """The offending value as JSON text in quotes, at the end of a reason as voice reasons
    have it, so counting reasons by kind leaves it out (``top_reasons``)."""
    text = _json_text(value)
    return f"'{text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + '…'}'"


def raw_text(item: object) -> str:
    """The record's raw values as a JSON object ``{field: text}`` (for ingest_reject.raw)."""
    if isinstance(item, dict):
        values = {str(k): v if isinstance(v, str) else _json_text(v) for k, v in item.items()}
        return json.dumps(values, ensure_ascii=False)
    return json.dumps({"value": _json_text(item)}, ensure_ascii=False)


def _json_text(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Decimal | NonFinite):
        return str(value)
    return json.dumps(value, default=str, ensure_ascii=False)
