-- `ratedeck cdr status`: per UTC day, the calls imported, how many are costed, the total and
-- the latest costing (a recost shows as such).
WITH calls AS (
    SELECT call_day, count(*) AS calls, count(*) FILTER (WHERE billable) AS billable
    FROM cdr_call GROUP BY call_day
),
costs AS (
    SELECT call_day, count(*) AS costed, count(*) FILTER (WHERE cost IS NULL) AS unmatched,
           sum(cost) AS total_cost
    FROM cdr_cost GROUP BY call_day
),
last_costing AS (
    SELECT call_day, arg_max(costed_at, costing_run) AS last_costed_at,
           bool_or(recost) AS ever_recosted
    FROM cdr_costing_log GROUP BY call_day
)
SELECT strftime(c.call_day, '%Y-%m-%d') AS day, c.calls, c.billable,
       coalesce(k.costed, 0) AS costed, coalesce(k.unmatched, 0) AS unmatched,
       coalesce(k.total_cost, 0) AS total_cost,
       strftime(l.last_costed_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M UTC') AS last_costed,
       coalesce(l.ever_recosted, false) AS recosted
FROM calls c
LEFT JOIN costs k USING (call_day)
LEFT JOIN last_costing l USING (call_day)
ORDER BY c.call_day;
