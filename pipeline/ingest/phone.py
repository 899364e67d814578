"""One phone number as text: normalised to its digits, or refused with the reason.

Pure Python (no polars, no numpy): ``ratedeck lookup`` and the report's diff use it without
loading the LPM engine; ``number_columns.py`` applies the same rules to millions of numbers at
once. It lives in ingest, the lowest layer that reads numbers, so that ingest (pure) never
imports analytics; ``pipeline.analytics.numbers`` re-exports it.
Rules: docs/analysts.md (in the international form, ``+`` or ``00`` first, the first ``(0)``
after a digit is the trunk zero and goes; then whitespace, ``+ - . ( ) [ ]`` are removed, then
one leading ``00``; what is left must be ASCII digits). The SQL macro ``lpm_clean_number``
(sql/macros/100_lpm.sql) spells the same patterns; tests hold them equal.
"""

from __future__ import annotations

import re

from pipeline.errors import InputError

NOISE = r"[\s+\-.()\[\]]"
NOISE_RE = re.compile(NOISE)
# "+44 (0) 20 ...": the international form with the national trunk zero in brackets, as UK,
# German, Swiss and Dutch numbers are often written. From abroad that 0 is not dialled (kept,
# the number would read 44020..., UK fixed, not London 4420), so in a number that starts with
# + or 00 the first "(0)" after a digit goes. Not otherwise: in "(0)20 ..." or "020 (0) 1"
# the 0 is what the user typed. Group 1 is everything before the "(0)" (no look-behind:
# polars' and DuckDB's regex engines have none).
TRUNK_ZERO = r"^(\s*(?:\+|00)[\s+\-.()\[\]]*[0-9][0-9\s+\-.()\[\]]*?)\(0\)"
TRUNK_ZERO_RE = re.compile(TRUNK_ZERO)
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
    digits = NOISE_RE.sub("", TRUNK_ZERO_RE.sub(r"\1", raw, count=1))
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
