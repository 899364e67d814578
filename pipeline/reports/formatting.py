"""How numbers, dates and untrusted text look in the report (body and attachments).

Prices keep their exact digits (at least 4 decimals, trailing zeros beyond that dropped);
percentages and money estimates are rounded half-up for display only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Text a spreadsheet could run as a formula gets a leading single quote."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def price(value: Decimal | None, min_decimals: int = 4) -> str:
    """Exact digits, at least ``min_decimals`` decimals: 0.16170000 -> 0.1617, 1 -> 1.0000."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(min_decimals, '0')}"


def decimals_needed(values, minimum: int = 4, maximum: int = 8) -> int:
    """The decimals that show every value exactly: one width for a whole column aligns the
    decimal points (padding with zeros never changes a value)."""
    needed = minimum
    for value in values:
        if value is not None:
            needed = max(needed, -value.normalize().as_tuple().exponent)
    return min(needed, maximum)


def pct(value: Decimal | None, decimals: int = 2) -> str:
    """+2.20%, -0.50%, 0.00% (-0.004 too: no sign on what rounds to zero)."""
    if value is None:
        return ""
    rounded = _rounded(value, decimals)
    sign = "+" if rounded > 0 else ""
    return f"{sign}{rounded:,f}%"


def money(value: Decimal | None, decimals: int = 2, *, signed: bool = False) -> str:
    """1,234.57 (half-up); ``signed`` adds a + for positive amounts; what rounds to zero is
    0.00, never -0.00."""
    if value is None:
        return ""
    rounded = _rounded(value, decimals)
    sign = "+" if signed and rounded > 0 else ""
    return f"{sign}{rounded:,f}"


def _rounded(value: Decimal, decimals: int) -> Decimal:
    """Half-up to ``decimals``; a negative value that rounds to zero loses its sign (Decimal
    keeps it: -0.004 -> -0.00, which reads as a loss)."""
    rounded = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return abs(rounded) if rounded == 0 else rounded


def minutes(value: Decimal | None) -> str:
    if value is None:
        return ""
    return money(value, 0) if value == value.to_integral_value() else money(value, 2)


def when(value: datetime | None) -> str:
    """2026-11-05 06:00 UTC."""
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def days(value: Decimal | None) -> str:
    """Days of notice (whole calendar days): 3 d."""
    if value is None:
        return ""
    return f"{int(value)} d"


def billing(initial: int | None, increment: int | None) -> str:
    """Billing increments as the deck writes them: 60/60."""
    if initial is None or increment is None:
        return ""
    return f"{initial}/{increment}"


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def clip(text: str, width: int = 28) -> str:
    """At most ``width`` characters, an ellipsis marking a cut: a long destination must not
    wrap a table row to four lines (the full name is in the cell's title and the attachments)."""
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
