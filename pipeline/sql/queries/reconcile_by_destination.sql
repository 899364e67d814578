-- Money of the disputed calls (every class but exact) of the UTC days $days (a DATE list within
-- $first..$last), per destination: calls per class and what the carrier charged more (> 0) or
-- less than the decks.
SELECT coalesce(destination, '(unknown)') AS destination,
       count(*) AS calls,
       count(*) FILTER (WHERE class = 'price_differs') AS price_differs,
       count(*) FILTER (WHERE class = 'duration_differs') AS duration_differs,
       count(*) FILTER (WHERE class = 'billing_differs') AS billing_differs,
       count(*) FILTER (WHERE class = 'cost_differs') AS cost_differs,
       count(*) FILTER (WHERE class = 'missing_ours') AS missing_ours,
       count(*) FILTER (WHERE class = 'missing_theirs') AS missing_theirs,
       CAST(sum(cost_difference) AS DECIMAL(18, 8)) AS cost_difference
FROM reconcile_calls(CAST($first AS DATE), CAST($last AS DATE))
WHERE class <> 'exact' AND list_contains(CAST($days AS DATE[]), call_day)
GROUP BY ALL
ORDER BY cost_difference DESC, destination;
