-- The deck of one tech prefix as it stood (or is scheduled to stand) at a moment; an alias
-- (the demo's 021001: current's deck, stored once) has the deck it shares, rated_on naming it.
-- Parameters (optional, set first), shown with their defaults:
--   SET VARIABLE tech_prefix = 'current';
--   SET VARIABLE as_of = current_timestamp;        -- e.g. TIMESTAMPTZ '2026-12-06 12:00:00+00'
SELECT prefix, destination, price, initial_seconds, increment_seconds, currency,
       valid_from, valid_to, rated_on
FROM voice_rate_at(coalesce(getvariable('as_of')::TIMESTAMPTZ, current_timestamp))
WHERE tech_prefix = coalesce(getvariable('tech_prefix'), 'current')
ORDER BY prefix;
