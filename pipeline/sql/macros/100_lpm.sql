-- Longest-prefix-match rate and exact call cost (lpm_rate, call_cost; docs/analysts.md).
-- Same rules as the Python engine (pipeline.analytics: _engine.py and its modules); tests hold them equal.
--
--   SELECT * FROM lpm_rate('35389941234', 'current');                  -- valid now
--   SELECT * FROM lpm_rate('+353 89 941 234', '021001', TIMESTAMPTZ '2026-11-05 12:00:00+00');
--   SELECT call_cost('35389941234', 125, 'current');                   -- DECIMAL(18, 6)
--   SELECT number, seconds, call_cost(number, seconds, 'current', started_at) FROM my_calls;
--
-- The number is normalised first (lpm_digits): invisible format characters (zero-width, bidi
-- marks: lpm_visible) are dropped; in a number written in the international form (+ or 00
-- first) the first (0) after a digit is the national trunk zero and goes
-- ('+44 (0) 20 7946 0000' is 442079460000); then whitespace (lpm_whitespace: every Unicode
-- space, the no-break ones included), + - . ( ) [ ] are removed, then one leading 00;
-- anything left that is not a digit raises an error naming the number.
-- lpm_rate returns one row (or none when no prefix matches): the longest prefix with a
-- version valid at the moment, as voice_rate_at() sees it ([valid_from, valid_to)); a NULL
-- moment means now (like a call without started_at in `ratedeck cost`). The tech prefix is
-- priced on its deck (voice_deck_of, 050_voice_deck.sql): an alias such as the demo's 021001
-- on current's, as CDR costing does; the row says the tech prefix asked for and rated_on.
-- call_cost: NULL when unmatched; 0 for a 0-second call; else billed = a when d <= a, else
-- a + ceil((d - a) / b) * b, cost = price * billed / 60 rounded once, half up, to 6 places
-- (the default of settings.report.cost_decimals), in integers - never through a DOUBLE.
-- Its seconds must be whole, 0 to 999,999,999 (the limit of ratedeck lookup and cost,
-- pipeline.limits.MAX_CALL_SECONDS): others raise an error, matched or not, as a bad number does.
-- Should a prefix have overlapping versions (a data error), the latest valid_from wins, then
-- the later valid_to, the higher price, the larger increments, the first destination.

-- The characters are pipeline/ingest/phone.py's (WHITESPACE, INVISIBLE), listed one by one:
-- DuckDB's \s is ASCII whitespace only (not even VT), where Python's and polars' take Unicode
-- spaces, so a number copied from a web page ('+44 20 7946 0000' with no-break spaces) would
-- be refused here and priced by ratedeck lookup. A test holds every character equal.
CREATE OR REPLACE MACRO lpm_whitespace() AS
    '\x{0009}\x{000A}\x{000B}\x{000C}\x{000D}\x{001C}\x{001D}\x{001E}\x{001F}\x{0020}' ||
    '\x{0085}\x{00A0}\x{1680}\x{2000}\x{2001}\x{2002}\x{2003}\x{2004}\x{2005}\x{2006}' ||
    '\x{2007}\x{2008}\x{2009}\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}';
COMMENT ON MACRO lpm_whitespace IS 'lpm_whitespace(): the whitespace a number may carry as separators (every character Python''s str.isspace() calls whitespace: the Unicode spaces, no-break, narrow no-break, thin, figure and ideographic ones included, tab, newline, CR, VT, FF, U+001C-U+001F, U+0085, U+2028, U+2029), as the body of a regex character class.';

CREATE OR REPLACE MACRO lpm_invisible() AS
    '[\x{00AD}\x{061C}\x{180E}\x{200B}\x{200C}\x{200D}\x{200E}\x{200F}\x{202A}\x{202B}' ||
    '\x{202C}\x{202D}\x{202E}\x{2060}\x{2066}\x{2067}\x{2068}\x{2069}\x{FEFF}]';
COMMENT ON MACRO lpm_invisible IS 'lpm_invisible(): the invisible format characters a number may carry from copy-paste, as a regex character class (see lpm_visible).';

-- every invisible character is beyond ASCII, and an ASCII number (bytes = characters) is
-- the common case: it skips the regex (about 8x cheaper)
CREATE OR REPLACE MACRO lpm_visible(number) AS
    CASE WHEN strlen(number) = length(number) THEN number
         ELSE regexp_replace(number, lpm_invisible(), '', 'g') END;
COMMENT ON MACRO lpm_visible IS 'lpm_visible(number): the number text without the invisible format characters copy-paste brings along, dropped before any other rule: soft hyphen, zero-width space and joiners, word joiner, byte-order mark, bidi marks, embeddings and isolates (U+00AD, U+061C, U+180E, U+200B-U+200F, U+202A-U+202E, U+2060, U+2066-U+2069, U+FEFF).';

-- The patterns are pipeline/ingest/phone.py's (TRUNK_ZERO, NOISE), which the tests hold equal.
CREATE OR REPLACE MACRO lpm_clean_number(number) AS
    regexp_replace(regexp_replace(
        regexp_replace(lpm_visible(number),
            '^([' || lpm_whitespace() || ']*(?:\+|00)[' || lpm_whitespace() || '+\-.()\[\]]*' ||
            '[0-9][0-9' || lpm_whitespace() || '+\-.()\[\]]*?)\(0\)', '\1'),
        '[' || lpm_whitespace() || '+\-.()\[\]]', '', 'g'), '^00', '');
COMMENT ON MACRO lpm_clean_number IS 'lpm_clean_number(number): the number text without invisible format characters (lpm_visible), the trunk zero of the international form (the first (0) after a digit when it starts with + or 00: ''+44 (0) 20'' -> ''4420''), whitespace (lpm_whitespace), + - . ( ) [ ] and one leading 00 (no validation; see lpm_digits).';

-- "353.0" went through a spreadsheet as a float: not the number 3530 (phone.FLOAT_ARTEFACT);
-- only a number with a dot can be one, and the dot is the cheap test
CREATE OR REPLACE MACRO lpm_float_like(number) AS
    contains(number, '.') AND regexp_matches(lpm_visible(number),
        '^[' || lpm_whitespace() || ']*\+?[0-9]+\.0+[' || lpm_whitespace() || ']*$');
COMMENT ON MACRO lpm_float_like IS 'lpm_float_like(number): whether the number text looks like a spreadsheet float (''353.0'', whitespace and invisible characters aside), which lpm_digits refuses rather than read as 3530.';

-- plain digits (not 00 first) are their own digits: no rule changes them, and in a table of
-- calls most numbers are so written, so the regexes run only on the others
CREATE OR REPLACE MACRO lpm_digits(number) AS
    CASE WHEN number IS NULL THEN NULL
         WHEN regexp_full_match(number, '[0-9]+') AND NOT starts_with(number, '00') THEN number
         WHEN regexp_full_match(lpm_clean_number(number), '[0-9]+')
              AND NOT lpm_float_like(number)
             THEN lpm_clean_number(number)
         ELSE error('bad number ''' || number || ''': ' ||
                    CASE WHEN lpm_float_like(number)
                             THEN 'looks like a spreadsheet float (trailing .0)'
                         WHEN lpm_clean_number(number) = '' THEN 'no digits'
                         WHEN regexp_matches(lpm_clean_number(number), '\pL')
                             THEN 'letters are not allowed'
                         ELSE 'unexpected character ''' ||
                              regexp_extract(lpm_clean_number(number), '[^0-9]') || ''''
                    END)
    END;
COMMENT ON MACRO lpm_digits IS 'lpm_digits(number): a dialled number normalised to digits (e.g. ''+353 (89) 941-234'' -> ''35389941234''); an error naming the number when it has letters or is a spreadsheet float like ''353.0''. NULL stays NULL.';

CREATE OR REPLACE MACRO lpm_rate_at(number, tech_prefix, at_ts) AS TABLE
WITH digits AS (SELECT lpm_digits(number) AS digits),
route AS (SELECT tech_prefix AS asked, voice_deck_of(tech_prefix) AS deck),
candidates AS (
    -- every prefix of the number a deck can hold: an equi-join, so a whole table of calls
    -- (call_cost per row) becomes one hash join instead of a scan per call. No deck prefix
    -- is longer than 19 digits (the engine's KEY_DIGITS: it refuses a longer one; ingest
    -- keeps them to 15), so the digits beyond cannot change the match, and a number of
    -- 100,000 digits is as little work as any (every prefix of it: 5 * 10^9 characters)
    SELECT left(d.digits, size.n) AS prefix
    FROM digits d, range(0, least(length(d.digits), 19) + 1) AS size(n)
)
SELECT q.asked AS tech_prefix, (SELECT digits FROM digits) AS number,
       r.prefix AS matched_prefix, r.destination, r.price, r.initial_seconds,
       r.increment_seconds, r.currency, r.valid_from, r.valid_to, r.tech_prefix AS rated_on
FROM candidates c
JOIN voice_rate r ON r.prefix = c.prefix
JOIN route q ON r.tech_prefix = q.deck
WHERE r.valid_from <= coalesce(at_ts::TIMESTAMPTZ, current_timestamp)
  AND (r.valid_to IS NULL OR coalesce(at_ts::TIMESTAMPTZ, current_timestamp) < r.valid_to)
ORDER BY length(r.prefix) DESC, r.valid_from DESC, r.valid_to DESC NULLS FIRST,
         r.price DESC, r.initial_seconds DESC, r.increment_seconds DESC, r.destination
LIMIT 1;
COMMENT ON MACRO TABLE lpm_rate_at IS 'lpm_rate_at(number, tech_prefix, at_ts): the voice_rate row billing number on tech_prefix (on its deck: voice_deck_of) at at_ts (NULL: now) by longest prefix match; one row or none.';

CREATE OR REPLACE MACRO lpm_rate(number, tech_prefix) AS TABLE
    (SELECT * FROM lpm_rate_at(number, tech_prefix, current_timestamp)),
(number, tech_prefix, at_ts) AS TABLE
    (SELECT * FROM lpm_rate_at(number, tech_prefix, at_ts));
COMMENT ON MACRO TABLE lpm_rate IS 'lpm_rate(number, tech_prefix[, at_ts]): the rate that bills number on tech_prefix now (or at at_ts), longest prefix match: tech_prefix (as asked), number, matched_prefix, destination, price, increments, currency, validity, rated_on (the deck: tech_prefix, or the one an alias shares, see voice_deck_aliases). One row, none when no prefix matches.';

-- Billed seconds of a d-second call with increments a/b (d must be a whole number >= 0).
CREATE OR REPLACE MACRO lpm_billed_seconds(d, a, b) AS
    CASE WHEN d IS NULL THEN NULL
         WHEN d < 0 OR d <> trunc(d)
             THEN error('call seconds must be a whole number >= 0, got ' || d)
         WHEN d = 0 THEN 0
         WHEN d <= a THEN a
         ELSE a + ((CAST(d AS BIGINT) - a + b - 1) // b) * b
    END;
COMMENT ON MACRO lpm_billed_seconds IS 'lpm_billed_seconds(d, a, b): seconds billed for a d-second call with increments a/b: 0 for 0, a when d <= a, else a + ceil((d - a) / b) * b. An error for a negative or fractional d.';

-- price per minute (DECIMAL(18, 8)) x billed seconds / 60, half up to 6 places, exact.
CREATE OR REPLACE MACRO lpm_cost(price, billed) AS
    CAST(CAST(div_round_half_up(
            CAST(CAST(price AS DECIMAL(38, 8)) * 100000000 AS HUGEINT) * billed, 6000)
        AS DECIMAL(18, 0)) * CAST(0.000001 AS DECIMAL(7, 6)) AS DECIMAL(18, 6));
COMMENT ON MACRO lpm_cost IS 'lpm_cost(price, billed): price per minute x billed seconds / 60, rounded once half up to 6 decimals, exact DECIMAL(18, 6).';

-- The seconds of a call call_cost prices: d itself, or an error when it is not a whole number
-- from 0 to 999,999,999 (pipeline.limits.MAX_CALL_SECONDS and TOO_LARGE, the limit
-- and words of ratedeck lookup and cost; a test holds them equal). NULL stays NULL.
CREATE OR REPLACE MACRO lpm_call_seconds(d) AS
    CASE WHEN d IS NULL THEN NULL
         WHEN d < 0 OR d <> trunc(d)
             THEN error('call seconds must be a whole number >= 0, got ' || d)
         WHEN d > 999999999
             THEN error('call seconds ' || d || ' is too large: at most 999,999,999 seconds')
         ELSE d
    END;
COMMENT ON MACRO lpm_call_seconds IS 'lpm_call_seconds(d): d, the seconds of a call, when a whole number from 0 to 999,999,999 (the limit of ratedeck lookup and cost); an error otherwise. NULL stays NULL.';

-- The seconds are checked in the rate's subquery (before lpm_billed_seconds casts them) and
-- in the CASE around it, so that a bad duration is an error for an unmatched number too (the
-- subquery then has no row to check it on); NULL seconds cost NULL, as they always did.
CREATE OR REPLACE MACRO call_cost(number, seconds, tech_prefix) AS
    CASE WHEN lpm_call_seconds(seconds) IS NULL THEN NULL ELSE (
        SELECT lpm_cost(r.price, lpm_billed_seconds(
                   lpm_call_seconds(seconds), r.initial_seconds, r.increment_seconds))
        FROM lpm_rate_at(number, tech_prefix, current_timestamp) r
    ) END,
(number, seconds, tech_prefix, at_ts) AS
    CASE WHEN lpm_call_seconds(seconds) IS NULL THEN NULL ELSE (
        SELECT lpm_cost(r.price, lpm_billed_seconds(
                   lpm_call_seconds(seconds), r.initial_seconds, r.increment_seconds))
        FROM lpm_rate_at(number, tech_prefix, at_ts) r
    ) END;
COMMENT ON MACRO call_cost IS 'call_cost(number, seconds, tech_prefix[, at_ts]): exact cost of a call (DECIMAL(18, 6), half up) at the rate that billed it now or at at_ts (longest prefix match, on tech_prefix''s deck: voice_deck_of); NULL when no prefix matches. An error for a bad number, or seconds not a whole number from 0 to 999,999,999 (the limit of ratedeck lookup and cost).';

-- The versions of one tech prefix's deck (an alias: the deck it shares, voice_deck_of) in
-- force at some moment of [from_ts, to_ts]: what costing calls made in that window can use
-- (the Python engine loads its deck with this).
-- Withdrawn versions (valid_to = valid_from) are left out: no moment falls inside them.
CREATE OR REPLACE MACRO lpm_versions(tech_prefix, from_ts, to_ts) AS TABLE
WITH route AS (SELECT voice_deck_of(tech_prefix) AS deck)
SELECT r.prefix, r.destination, r.price, r.initial_seconds, r.increment_seconds, r.currency,
       r.valid_from, r.valid_to
FROM voice_rate r
JOIN route q ON r.tech_prefix = q.deck
WHERE (r.valid_to IS NULL OR r.valid_to > r.valid_from)
  AND r.valid_from <= to_ts::TIMESTAMPTZ
  AND (r.valid_to IS NULL OR r.valid_to > from_ts::TIMESTAMPTZ);
COMMENT ON MACRO TABLE lpm_versions IS 'lpm_versions(tech_prefix, from_ts, to_ts): the versions of a tech prefix''s deck (an alias: the deck it shares, voice_deck_of) in force at some moment of [from_ts, to_ts] (withdrawn ones left out): what costing calls in that window can use.';
