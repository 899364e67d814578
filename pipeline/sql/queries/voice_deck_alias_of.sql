-- The tech prefix whose deck $tech_prefix's downloads were, stored once as that one's
-- (voice_deck_alias, the latest), while $tech_prefix has no history of its own: the deck
-- cdr_day_calls.sql prices its calls on. No row: no such alias.
SELECT arg_max(same_as, fetched_at) AS same_as
FROM voice_deck_alias
WHERE tech_prefix = $tech_prefix
  AND NOT EXISTS (SELECT 1 FROM voice_snapshot WHERE tech_prefix = $tech_prefix)
HAVING count(*) > 0;
