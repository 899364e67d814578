"""A brute-force reference for the finance report's monthly impact on a traffic profile
(``pipeline.analytics.diff.with_traffic_impact``): every traffic row priced by hand on its
route's decks before and after the changes, with a plain dict longest-prefix match."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import polars as pl

from support.reports import Rate

Deck = dict[str, Decimal]  # prefix -> price per minute
Prices = dict[str, str]  # prefix -> price per minute, as text
Impact = dict[tuple[str, str], tuple[Decimal | None, Decimal | None]]


def rates(deck: Prices) -> list[Rate]:
    """The rows of a deck for ``DeckHistory.snapshot``."""
    return [Rate(prefix, f"dest {prefix}", price) for prefix, price in sorted(deck.items())]


def longest(deck: Mapping[str, object], digits: str) -> str | None:
    """The longest prefix of ``digits`` in ``deck``: a plain dict LPM."""
    return next((digits[:n] for n in range(len(digits), 0, -1) if digits[:n] in deck), None)


def reference_impact(
    traffic: pl.DataFrame,
    default_route: str,
    decks: Mapping[str, tuple[Prices, Prices]],
    aliases: Mapping[str, str] | None = None,
) -> Impact:
    """(tech_prefix, prefix) -> (monthly minutes, monthly impact) of every change between each
    tech prefix's two decks (``decks``: tech prefix -> (before, after)), by hand, row by row:
    each traffic row on its one route (its tech prefix, else ``default_route``; a route in
    ``aliases`` on the deck it names), priced on the deck before and after (dict LPM); it counts
    for the change that moved it: the longer of the prefixes billing it before and after (a new
    or removed one), else the one billing it on both sides, if that changed."""
    aliases = aliases or {}
    result: dict[tuple[str, str], list[Decimal | None]] = {}
    for tech_prefix, (before_prices, after_prices) in decks.items():
        before, after = _deck(before_prices), _deck(after_prices)
        changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
        for prefix in changed:
            priced = _billed(before, prefix) is not None and _billed(after, prefix) is not None
            result[(tech_prefix, prefix)] = [Decimal(0), Decimal(0) if priced else None]
        for row in traffic.iter_rows(named=True):
            route = row["tech_prefix"] or default_route
            if aliases.get(route, route) != tech_prefix:
                continue
            was, now = longest(before, row["key"]), longest(after, row["key"])
            mover = max((was, now), key=lambda prefix: len(prefix or ""))
            if mover not in changed:
                continue
            entry = result[(tech_prefix, mover)]
            entry[0] += row["minutes"]
            if entry[1] is not None:
                entry[1] += row["minutes"] * (after[now] - before[was])
    return {key: (value[0], value[1]) for key, value in result.items()}


def impact_by_change(frame: pl.DataFrame) -> Impact:
    """The same mapping from ``voice_changes(..., traffic=...)``'s rows."""
    return {
        (row["tech_prefix"], row["prefix"]): (row["monthly_minutes"], row["monthly_impact"])
        for row in frame.iter_rows(named=True)
    }


def _deck(prices: Prices) -> Deck:
    return {prefix: Decimal(price) for prefix, price in prices.items()}


def _billed(deck: Deck, prefix: str) -> Decimal | None:
    """The price billing the numbers under ``prefix`` on ``deck`` (its own, else its parent's)."""
    match = longest(deck, prefix)
    return None if match is None else deck[match]
