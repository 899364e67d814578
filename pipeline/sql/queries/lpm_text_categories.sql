-- Every prefix and destination the decks of the tech prefixes $tech_prefixes ever held
-- (withdrawn versions included), each list sorted: the categories of the text columns of
-- `ratedeck cost`'s output (pipeline/analytics/costing.py), fixed before its first batch.
SELECT coalesce(list_sort(list(DISTINCT prefix)), []) AS prefixes,
       coalesce(list_sort(list(DISTINCT destination) FILTER (WHERE destination IS NOT NULL)),
                []) AS destinations
FROM voice_rate
WHERE list_contains($tech_prefixes, tech_prefix);
