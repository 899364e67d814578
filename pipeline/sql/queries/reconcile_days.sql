-- Balance spend against costed calls for the UTC days $first..$last (reconcile_daily), judged
-- by $tolerance_pct (the settings in hand, which may be newer than reconcile_setting).
SELECT day, spend, topups, calls, own_cost, difference, pct,
       CAST($tolerance_pct AS DECIMAL(9, 4)) AS tolerance_pct,
       abs(difference) * 100 <= own_cost * CAST($tolerance_pct AS DECIMAL(9, 4)) AS within_tolerance
FROM reconcile_daily
WHERE day BETWEEN $first AND $last
ORDER BY day;
