-- The UTC days with billable calls not costed yet, oldest first.
-- A day's costs are costs of its own billable calls, each call once (cdr_cost.call_day is the
-- call's day, a costing adds only calls not costed yet, a recost removes the costs it does not
-- restage, and calls are never removed), so a day has calls left to cost exactly when it has
-- fewer costs than billable calls. Counting per day reads the two call_day columns, not every
-- call id of the history twice (which, a year at 1M calls a day, is a join of 365M ids).
WITH calls AS (
    SELECT call_day, count(*) AS billable FROM cdr_call WHERE billable GROUP BY call_day
),
costs AS (
    SELECT call_day, count(*) AS costed FROM cdr_cost GROUP BY call_day
)
SELECT call_day
FROM calls LEFT JOIN costs USING (call_day)
WHERE calls.billable > coalesce(costs.costed, 0)
ORDER BY call_day;
