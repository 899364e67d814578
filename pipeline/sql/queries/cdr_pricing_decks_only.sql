-- A day's pricing connection (pipeline/analytics/cdr.py) holds the decks the day's calls are
-- priced on and no alias: cdr_day_calls.sql has resolved each route to its deck already
-- (rated_on). These empty tables are what the macros resolving aliases
-- (macros/050_voice_deck.sql) are created over; on them every tech prefix is its own deck.
CREATE TABLE voice_snapshot (tech_prefix VARCHAR NOT NULL);
CREATE TABLE voice_deck_alias (
    tech_prefix VARCHAR NOT NULL,
    same_as     VARCHAR NOT NULL,
    fetched_at  TIMESTAMPTZ NOT NULL
);
