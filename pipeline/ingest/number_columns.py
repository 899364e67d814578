"""Phone numbers a column at a time: the rules of ``phone.py`` (docs/analysts.md) over a polars
Series, digits (null when bad) and the reason (null when good). Used by the LPM engine's
``parse_numbers`` (``pipeline.analytics.numbers``) for the numbers its fast key cast could not
take as they are.
"""

from __future__ import annotations

from typing import TypeVar

import polars as pl

from pipeline.ingest.phone import (
    FLOAT_ARTEFACT,
    FLOAT_ARTEFACT_PROBLEM,
    INTERNATIONAL_PREFIX,
    INVISIBLE_CLASS,
    NOISE,
    TRUNK_ZERO,
)

Digits = TypeVar("Digits", pl.Expr, pl.Series)


def plain_number_digits(digits: Digits) -> Digits:
    """Numbers written in ASCII digits alone, normalised (``phone.number_problem``): one
    leading ``00`` goes, the international call prefix. Empty: no digits."""
    return digits.str.strip_prefix(INTERNATIONAL_PREFIX)


def normalise_odd(raw: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Like ``normalise_slow``, with a cheap path for ``+digits``, ``00digits``, ``0digits``."""
    tail = raw.str.strip_prefix("+") if raw.str.starts_with("+").any() else raw
    if not tail.str.contains(r"^[0-9]+$").fill_null(False).all():
        return normalise_slow(raw)
    digits = plain_number_digits(tail)
    empty = digits == ""  # "00" alone
    problems = pl.select(pl.when(empty).then(pl.lit("no digits"))).to_series().alias("problem")
    digits = pl.select(pl.when(~empty).then(digits)).to_series().alias("digits")
    return digits, problems


def normalise_slow(raw: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Digits (null when bad) and reason (null when good): the regex normaliser, vectorised."""
    cleaned, float_like, good = _cleaned(raw)
    if good.all():
        return cleaned.alias("digits"), pl.Series("problem", [None] * len(raw), pl.String)
    cleaned, float_like, good = _again_without_invisible(raw, (cleaned, float_like, good))
    frame = pl.DataFrame({"raw": raw, "cleaned": cleaned, "good": good, "float": float_like})
    problems = frame.select(
        pl.when(pl.col("good"))
        .then(None)
        .when(pl.col("raw").is_null())
        .then(pl.lit("no number"))
        .when(pl.col("float"))
        .then(pl.lit(FLOAT_ARTEFACT_PROBLEM))
        .when(pl.col("cleaned") == "")
        .then(pl.lit("no digits"))
        .when(pl.col("cleaned").str.contains(r"[^\W\d_]"))
        .then(pl.lit("letters are not allowed"))
        .otherwise(
            pl.format("unexpected character '{}'", pl.col("cleaned").str.extract(r"([^0-9])", 1))
        )
        .alias("problem")
    ).to_series()
    digits = frame.select(pl.when(pl.col("good")).then(pl.col("cleaned")).alias("digits"))
    return digits.to_series(), problems


Reading = tuple[pl.Series, pl.Series, pl.Series]  # cleaned text, float-like, good


def _cleaned(raw: pl.Series) -> Reading:
    """What the rules leave of each number (not yet checked), whether it looks like a
    spreadsheet float, and whether it is good (digits, not a float)."""
    cleaned = without_trunk_zero(raw).str.replace_all(NOISE, "").str.replace(r"^00", "")
    float_like = raw.str.contains(FLOAT_ARTEFACT).fill_null(False)
    good = cleaned.str.contains(r"^[0-9]+$").fill_null(False) & ~float_like
    return cleaned, float_like, good


def _again_without_invisible(raw: pl.Series, first: Reading) -> Reading:
    """``first`` (``_cleaned(raw)``) with the numbers that carry an invisible character
    (``phone.INVISIBLE``) read again without them, as if they were not there. No rule removes
    one, so only numbers ``first`` refused can carry one: only those are searched, and a batch
    of good numbers pays nothing for the rule."""
    refused = (~first[2]).arg_true()
    marked = raw.gather(refused).str.contains(INVISIBLE_CLASS).fill_null(False)
    if not marked.any():
        return first
    at = refused.filter(marked)
    again = _cleaned(raw.gather(at).str.replace_all(INVISIBLE_CLASS, ""))
    # scatter writes in place: every series of ``first`` is new, made by ``_cleaned``
    cleaned, float_like, good = (
        whole.scatter(at, part) for whole, part in zip(first, again, strict=True)
    )
    return cleaned, float_like, good


def without_trunk_zero(raw: pl.Series) -> pl.Series:
    """``raw`` without the bracketed trunk zero of an international number ("+44 (0) 20"),
    by ``phone.TRUNK_ZERO``. The regex runs only on the numbers with a "(0)" at all: a cheap
    literal search keeps the cost of other formatted numbers down (its capture group makes
    the regex several times dearer than a match)."""
    at = raw.str.contains("(0)", literal=True).fill_null(False).arg_true()
    if not len(at):
        return raw
    # scatter writes in place: a copy, since the caller reads ``raw`` again
    return raw.clone().scatter(at, raw.gather(at).str.replace(TRUNK_ZERO, "${1}"))
