-- The UTC days with billable calls not costed yet, oldest first.
-- A day's costs are costs of its own billable calls, each call once (cdr_cost.call_day is the
-- call's day, a costing adds only calls not costed yet, a recost removes the costs it does not
-- restage, and calls are never removed), so a day has calls left to cost exactly when it has
-- fewer costs than billable calls. The counts per day are cdr_day's (kept by the import and
-- the costing), so this reads one row per day, not a column of every stored call.
SELECT call_day
FROM cdr_day
WHERE billable > costed
ORDER BY call_day;
