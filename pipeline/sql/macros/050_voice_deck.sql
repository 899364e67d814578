-- Which deck prices a tech prefix: ONE rule, used by everything that prices a call (the LPM
-- macros in 100_lpm.sql, ratedeck lookup and cost, cdr_day_calls.sql, the finance report's
-- traffic profile: analytics/diff.py routed_traffic). A tech prefix whose downloads were
-- another's very deck (voice_deck_alias, e.g. the default tech prefix's digits and "current")
-- is priced on that deck, stored once, while it has no voice_snapshot history of its own; its
-- latest recorded download (fetched_at) names the deck. Every other tech prefix is priced on
-- its own deck.

CREATE OR REPLACE MACRO voice_deck_aliases() AS TABLE
SELECT a.tech_prefix, arg_max(a.same_as, a.fetched_at) AS same_as
FROM voice_deck_alias a
WHERE NOT EXISTS (SELECT 1 FROM voice_snapshot s WHERE s.tech_prefix = a.tech_prefix)
GROUP BY a.tech_prefix;
COMMENT ON MACRO TABLE voice_deck_aliases IS 'voice_deck_aliases(): the tech prefixes priced on another''s deck, one row each: tech_prefix, same_as (the deck, from its latest voice_deck_alias row), while tech_prefix has no voice_snapshot of its own. What lpm_rate, call_cost, ratedeck lookup/cost and CDR costing apply.';

-- route, not tech_prefix: a parameter named like the subquery's column would be ambiguous
CREATE OR REPLACE MACRO voice_deck_of(route) AS
    coalesce((SELECT v.same_as FROM voice_deck_aliases() v WHERE v.tech_prefix = route), route);
COMMENT ON MACRO voice_deck_of IS 'voice_deck_of(route): the tech prefix whose deck (voice_rate rows) prices the tech prefix route: its same_as in voice_deck_aliases(), else route itself.';
