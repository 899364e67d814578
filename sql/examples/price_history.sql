-- Every version of one prefix's rate, oldest first (withdrawn announcements included, flagged).
-- A tech prefix whose deck is an alias (the demo's 021001: current's deck, stored once) shows
-- the history of the deck that prices it (voice_deck_of, the rule of lpm_rate and lookup).
-- Parameters (optional, set first), shown with their defaults:
--   SET VARIABLE tech_prefix = 'current';
--   SET VARIABLE prefix = '44';
SELECT prefix, destination, price, initial_seconds, increment_seconds,
       valid_from, valid_to, effective_at, first_seen_at,
       withdrawn_at IS NOT NULL AS withdrawn, tech_prefix AS rated_on
FROM voice_rate
WHERE tech_prefix = voice_deck_of(coalesce(getvariable('tech_prefix'), 'current'))
  AND prefix = coalesce(getvariable('prefix'), '44')
ORDER BY valid_from, withdrawn_at NULLS FIRST;
