-- The billable calls of one UTC day to cost: those not costed yet, or all of them for a
-- recost. rated_on: the deck that prices the route; a route with no history of its own whose
-- deck another tech prefix holds (voice_deck_alias, e.g. "current") is priced on that deck:
-- voice_deck_aliases(), the rule lookup, cost, the LPM macros and the report's traffic impact
-- apply too. Params: $day (DATE), $recost (BOOLEAN).
-- The costed-call check looks at the day's costs only (cdr_cost.call_day is the call's day):
-- a year of costs is not scanned to cost one day.
SELECT c.call_id, c.number, c.billsec, c.started_at,
       coalesce(a.same_as, c.tech_prefix) AS rated_on,
       c.call_day, c.tech_prefix
FROM cdr_call c
LEFT JOIN voice_deck_aliases() a ON a.tech_prefix = c.tech_prefix
WHERE c.billable AND c.call_day = $day
  AND ($recost OR NOT EXISTS (
      SELECT 1 FROM cdr_cost k WHERE k.call_day = $day AND k.call_id = c.call_id))
ORDER BY c.started_at, c.call_id;
