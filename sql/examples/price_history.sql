-- Every version of one prefix's rate, oldest first (withdrawn announcements included, flagged).
-- Parameters (optional, set first), shown with their defaults:
--   SET VARIABLE tech_prefix = 'current';
--   SET VARIABLE prefix = '44';
SELECT prefix, destination, price, initial_seconds, increment_seconds,
       valid_from, valid_to, effective_at, first_seen_at,
       withdrawn_at IS NOT NULL AS withdrawn
FROM voice_rate
WHERE tech_prefix = coalesce(getvariable('tech_prefix'), 'current')
  AND prefix = coalesce(getvariable('prefix'), '44')
ORDER BY valid_from, withdrawn_at NULLS FIRST;
