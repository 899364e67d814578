"""One phone number as text: normalised to its digits, or refused with the reason.

Pure Python (no polars, no numpy): ``ratedeck lookup`` and the report's diff use it without
loading the LPM engine; ``number_columns.py`` applies the same rules to millions of numbers at
once. It lives in ingest, the lowest layer that reads numbers, so that ingest (pure) never
imports analytics; ``pipeline.analytics.numbers`` re-exports it.
Rules: docs/analysts.md (the invisible characters of ``INVISIBLE`` are dropped first; in the
international form, ``+`` or ``00`` first, the first ``(0)`` after a digit is the trunk zero
and goes; then the whitespace of ``WHITESPACE`` and ``+ - . ( ) [ ]`` are removed, then one
leading ``00``; what is left must be ASCII digits). The SQL macros ``lpm_visible`` and
``lpm_clean_number`` (sql/macros/100_lpm.sql) list the same characters; tests hold every
parser equal, character by character.
"""

from __future__ import annotations

import re

from pipeline.errors import InputError

# Whitespace is a separator: every character str.isspace() calls whitespace (the Unicode space
# separators Zs, such as the no-break, narrow no-break, thin, figure and ideographic spaces
# numbers copied from web pages and spreadsheets carry, U+2028/U+2029, tab, newline, CR, VT,
# FF, U+001C-U+001F, U+0085), so a number is what str.strip() leaves of it. Never ``\s``:
# Python's, polars' (no U+001C-U+001F) and DuckDB's (ASCII only, no VT) each mean another set.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# Invisible format characters copy-paste brings along: soft hyphen, zero-width space, joiners,
# word joiner, byte-order mark, and the bidi marks, embeddings and isolates (U+061C, U+200E,
# U+200F, U+202A-U+202E, U+2066-U+2069) of right-to-left pages. They are dropped before
# anything else, as if not there: "\u200e353.0" is still a spreadsheet float.
INVISIBLE = (
    "\xad\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2066\u2067\u2068\u2069\ufeff"
)


def _escaped(characters: str) -> str:
    """``characters`` as regex escapes (``\\uXXXX``) that Python's re and polars both read."""
    return "".join(f"\\u{ord(c):04x}" for c in characters)


_SPACE = _escaped(WHITESPACE)  # the body of a character class
WHITESPACE_CLASS = f"[{_SPACE}]"
INVISIBLE_CLASS = f"[{_escaped(INVISIBLE)}]"
INVISIBLE_RE = re.compile(INVISIBLE_CLASS)
NOISE = rf"[{_SPACE}+\-.()\[\]]"
NOISE_RE = re.compile(NOISE)
# "+44 (0) 20 ...": the international form with the national trunk zero in brackets, as UK,
# German, Swiss and Dutch numbers are often written. From abroad that 0 is not dialled (kept,
# the number would read 44020..., UK fixed, not London 4420), so in a number that starts with
# + or 00 the first "(0)" after a digit goes. Not otherwise: in "(0)20 ..." or "020 (0) 1"
# the 0 is what the user typed. Group 1 is everything before the "(0)" (no look-behind:
# polars' and DuckDB's regex engines have none).
TRUNK_ZERO = rf"^([{_SPACE}]*(?:\+|00)[{_SPACE}+\-.()\[\]]*[0-9][0-9{_SPACE}+\-.()\[\]]*?)\(0\)"
TRUNK_ZERO_RE = re.compile(TRUNK_ZERO)
# "353.0": a number that went through a spreadsheet as a float. Dots are separators in phone
# numbers ("353.89.123"), but stripping this one would silently read 3530.
FLOAT_ARTEFACT = rf"^[{_SPACE}]*\+?[0-9]+\.0+[{_SPACE}]*$"
FLOAT_ARTEFACT_RE = re.compile(FLOAT_ARTEFACT)
FLOAT_ARTEFACT_PROBLEM = "looks like a spreadsheet float (trailing .0)"
INTERNATIONAL_PREFIX = "00"  # the international call prefix: one leading 00 goes
_DIGITS_RE = re.compile(r"[0-9]+")
_LETTER_RE = re.compile(r"[^\W\d_]")  # any alphabetic character, in any script


class BadNumberError(InputError):
    """A phone number that is not one (letters, stray characters, no digits)."""


def number_problem(raw: str | None) -> tuple[str | None, str | None]:
    """``(digits, None)`` for a good number, ``(None, reason)`` for a bad one."""
    if raw is None:
        return None, "no number"
    if not raw.isascii():  # every INVISIBLE character is beyond ASCII
        raw = INVISIBLE_RE.sub("", raw)
    if FLOAT_ARTEFACT_RE.match(raw):
        return None, FLOAT_ARTEFACT_PROBLEM
    digits = NOISE_RE.sub("", TRUNK_ZERO_RE.sub(r"\1", raw, count=1))
    digits = digits.removeprefix(INTERNATIONAL_PREFIX)  # one, not all: "0000" is the number 00
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
