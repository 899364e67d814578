"""The account balance: the JSON of ``GET /customer`` -> one exact record (pure).

``{"customer": {"email": ..., "balance": 69.64622, "sms_balance": 99.63218,
"temporary_credit": 0}}``. Amounts are parsed as ``Decimal`` from the JSON text (never float);
more than 8 decimal places is refused, not rounded. A balance may be negative (credit in use).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pipeline.ingest.errors import IngestError, UnrecognisedFormatError
from pipeline.ingest.sms import BadValue, decode_json, exact_amount

AMOUNT_FIELDS = ("balance", "sms_balance", "temporary_credit")


@dataclass(frozen=True)
class BalanceRecord:
    email: str
    balance: Decimal
    sms_balance: Decimal
    temporary_credit: Decimal


def normalize_customer(data: bytes, *, source: str) -> BalanceRecord:
    """Parse one ``/customer`` answer; a bad body or field raises an ingest error naming it."""
    doc = decode_json(data, source=source)
    customer = doc.get("customer") if isinstance(doc, dict) else None
    if not isinstance(customer, dict):
        raise UnrecognisedFormatError(
            f'{source}: expected a JSON object {{"customer": {{...}}}}, got {_shape(doc)}'
        )
    email = customer.get("email")
    if not isinstance(email, str) or not email.strip():
        raise IngestError(f"{source}: customer.email: missing or not text")
    amounts = {}
    for field in AMOUNT_FIELDS:
        try:
            amounts[field] = exact_amount(customer, field)
        except BadValue as exc:
            raise IngestError(f"{source}: customer.{exc}") from None
    return BalanceRecord(email=email.strip(), **amounts)


def _shape(doc: object) -> str:
    if isinstance(doc, dict):
        keys = ", ".join(sorted(map(str, doc))[:5]) or "no keys"
        return f"an object with {keys}"
    return f"a JSON {type(doc).__name__}"
