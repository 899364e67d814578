-- `ratedeck cdr status`: per UTC day, the calls imported, how many are costed, the total and
-- the latest costing (a recost shows as such). The counts and total are cdr_day's (kept by
-- the import and the costing), so this reads one row per day and the costing log, not every
-- stored call.
WITH last_costing AS (
    SELECT call_day, arg_max(costed_at, costing_run) AS last_costed_at,
           bool_or(recost) AS ever_recosted
    FROM cdr_costing_log GROUP BY call_day
)
SELECT strftime(d.call_day, '%Y-%m-%d') AS day, d.calls, d.billable, d.costed, d.unmatched,
       d.total_cost,
       strftime(l.last_costed_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M UTC') AS last_costed,
       coalesce(l.ever_recosted, false) AS recosted
FROM cdr_day d
LEFT JOIN last_costing l USING (call_day)
WHERE d.calls > 0
ORDER BY d.call_day;
