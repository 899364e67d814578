-- The deck of one tech prefix as it stood (or is scheduled to stand) at a moment.
-- Parameters (optional, set first), shown with their defaults:
--   SET VARIABLE tech_prefix = 'current';
--   SET VARIABLE as_of = current_timestamp;        -- e.g. TIMESTAMPTZ '2026-12-06 12:00:00+00'
SELECT prefix, destination, price, initial_seconds, increment_seconds, currency,
       valid_from, valid_to
FROM voice_rate_at(coalesce(getvariable('as_of')::TIMESTAMPTZ, current_timestamp))
WHERE tech_prefix = coalesce(getvariable('tech_prefix'), 'current')
ORDER BY prefix;
