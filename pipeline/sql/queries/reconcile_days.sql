-- Balance spend against costed calls for the UTC days $first..$last (reconcile_daily).
SELECT day, spend, topups, calls, own_cost, difference, pct, tolerance_pct, within_tolerance
FROM reconcile_daily
WHERE day BETWEEN $first AND $last
ORDER BY day;
