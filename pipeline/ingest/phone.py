"""One phone number as text: normalised to its digits, or refused with the reason.

Pure Python (no polars, no numpy): ``ratedeck lookup`` and the report's diff use it without
loading the LPM engine; ``number_columns.py`` applies the same rules to millions of numbers at
once. It lives in ingest, the lowest layer that reads numbers, so that ingest (pure) never
imports analytics; ``pipeline.analytics.numbers`` re-exports it.
Rules: docs/analysts.md (whitespace, ``+ - . ( ) [ ]`` removed, then one leading ``00``;
what is left must be ASCII digits).
"""

from __future__ import annotations

import re

from pipeline.errors import InputError

NOISE = r"[\s+\-.()\[\]]"
NOISE_RE = re.compile(NOISE)
# "353.0": a number that went through a spreadsheet as a float. Dots are separators in phone
# numbers ("353.89.123"), but stripping this one would silently read 3530.
FLOAT_ARTEFACT = r"^\s*\+?[0-9]+\.0+\s*$"
FLOAT_ARTEFACT_RE = re.compile(FLOAT_ARTEFACT)
FLOAT_ARTEFACT_PROBLEM = "looks like a spreadsheet float (trailing .0)"
_DIGITS_RE = re.compile(r"[0-9]+")
_LETTER_RE = re.compile(r"[^\W\d_]")  # any alphabetic character, in any script


class BadNumberError(InputError):
    """A phone number that is not one (letters, stray characters, no digits)."""


def number_problem(raw: str | None) -> tuple[str | None, str | None]:
    """``(digits, None)`` for a good number, ``(None, reason)`` for a bad one."""
    if raw is None:
        return None, "no number"
    if FLOAT_ARTEFACT_RE.match(raw):
        return None, FLOAT_ARTEFACT_PROBLEM
    digits = NOISE_RE.sub("", raw)
    if digits.startswith("00"):
        digits = digits[2:]
    if _DIGITS_RE.fullmatch(digits):
        return digits, None
    if not digits:
        return None, "no digits"
    if _LETTER_RE.search(digits):
        return None, "letters are not allowed"
    stray = next(ch for ch in digits if not ("0" <= ch <= "9"))
    return None, f"unexpected character {stray!r}"


def normalise_number(raw: str, *, where: str | None = None) -> str:
    """Digits of one phone number, or ``BadNumberError`` naming it (and ``where``, e.g. a row)."""
    digits, reason = number_problem(raw)
    if digits is None:
        prefix = f"{where}: " if where else ""
        raise BadNumberError(f"{prefix}bad number {raw!r}: {reason}")
    return digits
