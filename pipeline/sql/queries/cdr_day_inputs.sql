-- What a costing of one UTC day depends on besides the prices (those: cdr_day_versions),
-- as counts and sums of row hashes: the day's billable calls, which of them are costed
-- already (only for a costing of new calls; a recost prices them all), and what decides the
-- deck a route is priced on (voice_deck_alias, the tech prefixes with decks of their own).
-- Equal before and after: the calls to cost and their routes are the same.
-- Params: $day (DATE), $recost (BOOLEAN).
SELECT
    (SELECT count(*) FROM cdr_call WHERE call_day = $day AND billable) AS calls,
    (SELECT coalesce(sum(hash(call_id, number, billsec, started_at, tech_prefix)::HUGEINT), 0)
       FROM cdr_call WHERE call_day = $day AND billable) AS calls_hash,
    (SELECT count(*) FROM cdr_cost WHERE call_day = $day AND NOT $recost) AS costed,
    (SELECT coalesce(sum(hash(call_id)::HUGEINT), 0)
       FROM cdr_cost WHERE call_day = $day AND NOT $recost) AS costed_hash,
    (SELECT coalesce(sum(hash(tech_prefix, same_as, fetched_at)::HUGEINT), 0)
       FROM voice_deck_alias) AS aliases_hash,
    (SELECT coalesce(sum(hash(tech_prefix)::HUGEINT), 0)
       FROM (SELECT DISTINCT tech_prefix FROM voice_snapshot)) AS decks_hash;
