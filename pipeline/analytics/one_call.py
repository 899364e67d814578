"""The rate and cost of one call to one number, per tech prefix, as of any moment
(``ratedeck lookup``), and what the warehouse says about its tech prefixes.

One call needs no engine: the warehouse's own macros (``lpm_rate_at``, ``reference_call_cost``
in sql/macros, which the tests hold equal to the LPM engine) answer it in one query per tech
prefix, so this module loads DuckDB only, not polars, numpy or pyarrow: ``ratedeck lookup``
starts in a fraction of the time. Many calls: ``lookup.cost_calls`` (the engine).

``Decks``: which tech prefixes the warehouse prices, and on which deck. An alias (a tech prefix
whose downloads were another's deck, stored once) is priced on that deck by the one rule of
sql/macros/050_voice_deck.sql, which the macros and CDR costing apply too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pipeline.analytics._errors import CostOverflowError
from pipeline.clock import as_utc
from pipeline.errors import InputError
from pipeline.ingest.phone import normalise_number
from pipeline.limits import MAX_CALL_SECONDS as MAX_CALL_SECONDS  # re-exported for callers
from pipeline.limits import TOO_LARGE as TOO_LARGE
from pipeline.warehouse.migrate import read_sql

if TYPE_CHECKING:  # imported where used: costing from the engine cache opens no DuckDB
    import duckdb


class UnknownTechPrefixError(InputError):
    """A tech prefix with no rates in the warehouse."""


# -- reading the warehouse ------------------------------------------------------------------
def known_tech_prefixes(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Tech prefixes with rates in the warehouse: ``current`` first, then in order."""
    rows = con.execute("SELECT DISTINCT tech_prefix FROM voice_rate").fetchall()
    return sorted((r[0] for r in rows), key=lambda tp: (tp != "current", tp))


def deck_aliases(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every alias tech prefix and the tech prefix whose deck prices it: the rule the LPM
    macros and CDR costing apply (``voice_deck_aliases()``, sql/macros/050_voice_deck.sql)."""
    aliases = _published_aliases(con)
    return {} if aliases is None else aliases


def _published_aliases(con: duckdb.DuckDBPyConnection) -> dict[str, str] | None:
    """``deck_aliases``, or ``None`` for a file published before aliases were priced."""
    import duckdb

    try:
        rows = con.execute(read_sql("queries/voice_deck_aliases.sql")).fetchall()
    except duckdb.CatalogException:
        # published before that macro: its own LPM macros price no alias either, and the next
        # run's publish brings both
        return None
    return dict(rows)


@dataclass(frozen=True)
class Decks:
    """The tech prefixes the warehouse prices: ``own`` have rates of their own (``current``
    first); each of the ``aliases`` is priced on the deck of the tech prefix it maps to, the
    same deck stored once (``deck_aliases``)."""

    own: list[str]
    aliases: dict[str, str]
    # published by a ratedeck before aliases: which tech prefixes are aliases is not known
    predates_aliases: bool = False

    def deck_of(self, tech_prefix: str) -> str:
        """The tech prefix whose rates price ``tech_prefix`` (itself unless an alias)."""
        return self.aliases.get(tech_prefix, tech_prefix)

    def choose(self, requested: Sequence[str] | None, *, aliases: bool = True) -> list[str]:
        """The requested tech prefixes (own decks, or aliases unless ``aliases`` is False), or
        every own deck: an alias would price the same deck again, so it is priced only when
        asked for by name. A refused alias's error names the tech prefix to ask for instead."""
        if not self.own:
            raise UnknownTechPrefixError("the warehouse has no voice rates yet: run `ratedeck run`")
        if not requested:
            return list(self.own)
        accepted = [*self.own, *self.aliases] if aliases else self.own
        unknown = [tp for tp in requested if tp not in accepted]
        if unknown:
            same_as = self.aliases.get(unknown[0])
            hint = (
                self._older_file_hint()
                if same_as is None
                else f"; its deck is {same_as!r}'s, stored once: ask for {same_as!r}"
            )
            raise UnknownTechPrefixError(
                f"no rates for tech prefix {unknown[0]!r} in the warehouse (it has: "
                f"{', '.join(accepted)}){hint}"
            )
        return list(dict.fromkeys(requested))

    def _older_file_hint(self) -> str:
        if not self.predates_aliases:
            return ""
        return (
            "; the published warehouse predates tech prefix aliases (an older ratedeck "
            "published it), so a tech prefix priced on another's deck is not known yet: the "
            "next `ratedeck run` publishes them"
        )

    def notes(self, chosen: Sequence[str], *, listed_all: bool) -> list[str]:
        """A line per alias priced (``chosen``), and per alias left out of a listing of every
        tech prefix (``listed_all``), saying which deck it shares."""
        return [
            alias_note(tp, same_as)
            + ("" if tp in chosen else f"; left out, as it repeats {same_as}: ask for {tp}")
            for tp, same_as in self.aliases.items()
            if tp in chosen or listed_all
        ]


def alias_note(tech_prefix: str, same_as: str) -> str:
    return f"{tech_prefix}: priced on {same_as}'s deck (the same deck, stored once)"


def priced_decks(con: duckdb.DuckDBPyConnection) -> Decks:
    """The tech prefixes with rates of their own and the aliases priced on one of them."""
    aliases = _published_aliases(con)
    return Decks(known_tech_prefixes(con), aliases or {}, predates_aliases=aliases is None)


def resolve_tech_prefixes(
    con: duckdb.DuckDBPyConnection, requested: Sequence[str] | None
) -> list[str]:
    """The requested tech prefixes with rates of their own (checked against the warehouse),
    or all: the history of a deck's changes (``diff``) is kept under its own tech prefix."""
    return priced_decks(con).choose(requested, aliases=False)


def history_starts(
    con: duckdb.DuckDBPyConnection, tech_prefixes: Sequence[str]
) -> dict[str, datetime]:
    """When the rate history of each tech prefix starts (its first version's valid_from)."""
    rows = con.execute(read_sql("queries/voice_history_start.sql"), [list(tech_prefixes)])
    return {tp: as_utc(starts) for tp, starts in rows.fetchall()}


def before_history_hint(tech_prefix: str, starts: datetime) -> str:
    """Why a moment before all history has no price, and when prices start."""
    return f"no price: history for tech prefix {tech_prefix} starts {first_priced(starts)} UTC"


def first_priced(starts: datetime) -> str:
    """``starts`` (UTC) as short as it can be written without cutting it: a history starting
    at 20:35:59.97 has no price at 20:35, so the minute alone would name a moment without
    one. Whole minutes stay ``2026-12-02 10:00``; otherwise the seconds, and their fraction
    without trailing zeros. ``--at`` reads each form back."""
    text = f"{starts:%Y-%m-%d %H:%M}"
    if starts.second or starts.microsecond:
        text += f":{starts:%S}"
    if starts.microsecond:
        text += f".{starts:%f}".rstrip("0")
    return text


# -- one number -----------------------------------------------------------------------------
@dataclass(frozen=True)
class LookupResult:
    """The rate of one number under one tech prefix (``matched`` False: no prefix fits)."""

    tech_prefix: str
    number: str  # normalised digits
    duration_s: int
    at: datetime
    matched: bool
    matched_prefix: str | None = None
    destination: str | None = None
    price: Decimal | None = None  # per minute
    initial_seconds: int | None = None
    increment_seconds: int | None = None
    billed_seconds: int | None = None
    cost: Decimal | None = None
    currency: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    # unmatched because ``at`` is before the tech prefix's history (None: no prefix fits)
    no_match_reason: str | None = None
    # the tech prefix whose deck priced it: ``tech_prefix``, or the deck an alias shares
    rated_on: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def lookup_number(
    con: duckdb.DuckDBPyConnection,
    number: str,
    *,
    tech_prefixes: Sequence[str] | None = None,
    duration_s: int,
    at: datetime | None = None,
    cost_decimals: int = 6,
) -> list[LookupResult]:
    """Rate and cost of one call of ``duration_s`` seconds to ``number``, per tech prefix
    (every one with a deck of its own by default; an alias asked for is priced on the deck it
    shares, see ``Decks``), at ``at`` (default now). ``BadNumberError`` for a number with
    letters etc."""
    digits = normalise_number(number)
    if duration_s < 0:
        raise InputError(f"duration must be >= 0 seconds, got {duration_s}")
    if duration_s > MAX_CALL_SECONDS:
        raise InputError(f"duration {duration_s} {TOO_LARGE}")
    at = as_utc(at or datetime.now(UTC))
    decks = priced_decks(con)
    tech_prefixes = decks.choose(tech_prefixes)
    starts = history_starts(con, [decks.deck_of(tp) for tp in tech_prefixes])
    results = []
    for tech_prefix in tech_prefixes:
        deck = decks.deck_of(tech_prefix)
        base = LookupResult(tech_prefix, digits, duration_s, at, matched=False, rated_on=deck)
        row = _rate_one_call(con, base, number, cost_decimals)
        if row is not None:
            results.append(_matched(base, row, cost_decimals))
            continue
        start = starts.get(deck)
        reason = before_history_hint(tech_prefix, start) if start and at < start else None
        results.append(replace(base, no_match_reason=reason))
    return results


def _rate_one_call(
    con: duckdb.DuckDBPyConnection, call: LookupResult, written: str, cost_decimals: int
) -> dict[str, Any] | None:
    """The query's row for ``call`` (None: no prefix fits). The number goes to the macros as
    ``written``, for them to normalise once: its digits normalised again would lose a second
    leading 00 ('0000' is the number 00, not a number with no digits)."""
    parameters = {
        "number": written,
        "tech_prefix": call.tech_prefix,
        "at": call.at,
        "seconds": call.duration_s,
        "decimals": cost_decimals,
    }
    import duckdb

    try:
        cursor = con.execute(read_sql("queries/lookup_one_call.sql"), parameters)
        row = cursor.fetchone()
    except (duckdb.OutOfRangeException, duckdb.ConversionException):
        raise CostOverflowError(
            f"a {call.duration_s}-second call to {call.number} under tech prefix "
            f"{call.tech_prefix} costs more than a DECIMAL(18, 8) can hold"
        ) from None
    except duckdb.InvalidInputException as exc:
        # the macros' own refusal (error(): 'bad number ...'), should they ever refuse what
        # normalise_number took: one line naming the number, never a traceback
        raise InputError(_macro_error(exc)) from None
    if row is None:
        return None
    return dict(zip([column[0] for column in cursor.description], row, strict=True))


def _macro_error(exc: Exception) -> str:
    """The words an SQL macro's error() raised, without DuckDB's 'Invalid Input Error: '."""
    line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return line.removeprefix("Invalid Input Error: ")


# the query's columns that a matched LookupResult takes as they are
_COPIED = (
    "matched_prefix",
    "destination",
    "price",
    "initial_seconds",
    "increment_seconds",
    "billed_seconds",
    "currency",
)


def _matched(base: LookupResult, row: dict[str, Any], cost_decimals: int) -> LookupResult:
    valid_to = row["valid_to"]
    return replace(
        base,
        matched=True,
        **{column: row[column] for column in _COPIED},
        # exact: the macro has rounded it to cost_decimals places already
        cost=row["cost"].quantize(Decimal(1).scaleb(-cost_decimals)),
        valid_from=as_utc(row["valid_from"]),
        valid_to=as_utc(valid_to) if valid_to is not None else None,
    )


def refused_prefix_notes(
    con: duckdb.DuckDBPyConnection, results: Sequence[LookupResult]
) -> list[str]:
    """A line per result whose number begins with a prefix its deck's latest download (at the
    result's moment) refused, at least as long as the prefix that priced it: that row could
    not be read, so the price is the one in force before it (the same prefix: the history
    carried it) or a shorter prefix's (a prefix refused before it ever had a price)."""
    notes = []
    for result in results:
        refused = _refused_prefix(con, result)
        if refused is None:
            continue
        prefix, reason, fetched_at = refused
        matched = result.matched_prefix or ""
        if len(prefix) < len(matched):
            continue  # a longer prefix of the deck priced it: the refused row changed nothing
        when = f"{as_utc(fetched_at):%Y-%m-%d %H:%M} UTC"
        head = f"{result.tech_prefix}: prefix {prefix} was refused at the download of {when}"
        if prefix == matched:
            outcome = "its previous price stands"
        elif matched:
            outcome = f"priced on {matched}"
        else:
            outcome = "no other prefix has a price"
        notes.append(f"{head} ({reason}); {outcome}")
    return notes


def _refused_prefix(
    con: duckdb.DuckDBPyConnection, result: LookupResult
) -> tuple[str, str, datetime] | None:
    import duckdb

    parameters = {
        "tech_prefix": result.rated_on or result.tech_prefix,
        "digits": result.number,
        "at": result.at,
    }
    try:
        rows = con.execute(read_sql("queries/lookup_refused_prefix.sql"), parameters).fetchall()
    except duckdb.BinderException:
        return None  # published before refused rows named their prefix: nothing to say
    return (rows[0][0], rows[0][1], rows[0][2]) if rows else None


def cheapest(results: Sequence[LookupResult]) -> LookupResult | None:
    """The matched result with the lowest cost (then the lowest price; first on a tie)."""
    matched = [r for r in results if r.matched]
    return min(matched, key=lambda r: (r.cost, r.price)) if matched else None
