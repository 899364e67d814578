"""Typed results of the CommPeak API, and the checks that turn parsed JSON into them.

JSON is parsed with ``parse_float=Decimal`` so money is exact. The ``parse_*`` functions
raise ``ValueError`` naming the offending field; the client turns that into an
``UnexpectedContentError`` naming the endpoint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pipeline.limits import MAX_MCC_MNC

_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True, slots=True)
class Customer:
    email: str
    balance: Decimal
    sms_balance: Decimal
    temporary_credit: Decimal


@dataclass(frozen=True, slots=True)
class Rate:
    prefix: str  # digits, leading zeros kept
    destination: str
    price: Decimal  # per minute


@dataclass(frozen=True, slots=True)
class SmsRate:
    mcc: int
    mnc: int
    rate: Decimal


@dataclass(frozen=True, slots=True)
class Download:
    path: Path
    size_bytes: int
    sha256: str  # hex
    content_type: str | None
    filename: str | None  # from Content-Disposition, sanitised; informational only


def _money(value: Any, where: str) -> Decimal:
    # bool is an int subclass: refuse it explicitly
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise ValueError(f"{where}: expected a number, got {type(value).__name__}")
    try:
        amount = Decimal(value) if not isinstance(value, str) else Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f"{where}: not a number: {str(value)[:40]!r}") from None
    if not amount.is_finite():
        raise ValueError(f"{where}: not a finite number")
    return amount


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected text, got {type(value).__name__}")
    return value


def _integer(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{where}: expected an integer, got bool")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value)
    raise ValueError(f"{where}: expected an integer, got {str(value)[:40]!r}")


def _code(value: Any, where: str) -> int:
    """An MCC or MNC: a JSON integer, as the API sends them, of at most 3 digits. Text is
    refused, not read: its leading zeros ("01", "010") are digits an int cannot keep, so
    reading it would silently change the network (ingest refuses it too)."""
    if isinstance(value, bool) or not isinstance(value, int):
        shown = f"text {value[:40]!r}" if isinstance(value, str) else type(value).__name__
        raise ValueError(f"{where}: expected a JSON integer, got {shown}")
    if not 0 <= value <= MAX_MCC_MNC:
        raise ValueError(f"{where}: out of range 0-{MAX_MCC_MNC}, got {value}")
    return value


def _prefix(value: Any, where: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _DIGITS.fullmatch(value):
        raise ValueError(f"{where}: expected digits, got {str(value)[:40]!r}")
    return value


def _object(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _field(obj: dict, name: str, where: str) -> Any:
    if name not in obj:
        raise ValueError(f"{where}: missing field {name!r}")
    return obj[name]


def parse_customer(doc: Any) -> Customer:
    """``{"customer": {"email", "balance", "sms_balance", "temporary_credit"}}``."""
    body = _object(_field(_object(doc, "body"), "customer", "body"), "customer")
    return Customer(
        email=_text(_field(body, "email", "customer"), "customer.email"),
        balance=_money(_field(body, "balance", "customer"), "customer.balance"),
        sms_balance=_money(_field(body, "sms_balance", "customer"), "customer.sms_balance"),
        temporary_credit=_money(
            _field(body, "temporary_credit", "customer"), "customer.temporary_credit"
        ),
    )


def parse_rates(doc: Any) -> list[Rate]:
    """``{"rates": [{"prefix", "destination", "price"}, ...]}``."""
    items = _list(_field(_object(doc, "body"), "rates", "body"), "rates")
    rates = []
    for i, item in enumerate(items):
        where = f"rates[{i}]"
        row = _object(item, where)
        rates.append(
            Rate(
                prefix=_prefix(_field(row, "prefix", where), f"{where}.prefix"),
                destination=_text(_field(row, "destination", where), f"{where}.destination"),
                price=_money(_field(row, "price", where), f"{where}.price"),
            )
        )
    return rates


def sms_rate_rows(doc: Any) -> list[dict]:
    """The shape of ``GET /rates/sms``: a bare JSON list of objects. The rows' values are not
    judged here: ingest refuses a bad row alone, with its reason (``pipeline/ingest/sms.py``)."""
    return [_object(item, f"[{i}]") for i, item in enumerate(_list(doc, "body"))]


def parse_sms_rates(doc: Any) -> list[SmsRate]:
    """``[{"rate", "mcc", "mnc"}, ...]`` (a bare list), every row typed; raises on the first
    unusable row (the typed API has no place for a bad one)."""
    return [_sms_rate(row, f"[{i}]") for i, row in enumerate(sms_rate_rows(doc))]


def _sms_rate(row: dict, where: str) -> SmsRate:
    return SmsRate(
        mcc=_code(_field(row, "mcc", where), f"{where}.mcc"),
        mnc=_code(_field(row, "mnc", where), f"{where}.mnc"),
        rate=_money(_field(row, "rate", where), f"{where}.rate"),
    )


def parse_task_id(doc: Any) -> int:
    """``{"task": {"id": 32421}}``."""
    task = _object(_field(_object(doc, "body"), "task", "body"), "task")
    return _integer(_field(task, "id", "task"), "task.id")


def parse_speech_result(doc: Any) -> dict:
    """The result document is passed through as a dict (its shape varies with the task type)."""
    return _object(doc, "body")
