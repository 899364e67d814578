"""Helpers of the SMS / balance integration tests: a simulated clock and API answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from support.bodies import sms_rates_json

START = datetime(2026, 11, 1, tzinfo=UTC)


def at(day: int, hour: int = 6) -> datetime:
    """Simulated clock: day 1 is 2026-11-01 (UTC)."""
    return START + timedelta(days=day - 1, hours=hour)


def sms_body(rates: dict[tuple[int, int], Decimal]) -> bytes:
    """An SMS answer as the API writes it: rates as JSON numbers (exact text)."""
    return sms_rates_json(rates)


def customer_body(balance: Decimal, sms_balance: Decimal, credit: Decimal = Decimal(0)) -> bytes:
    return (
        f'{{"customer": {{"email": "customer@email.com", "balance": {balance}, '
        f'"sms_balance": {sms_balance}, "temporary_credit": {credit}}}}}'
    ).encode()
