-- The UTC days with billable calls not costed yet, oldest first.
SELECT DISTINCT call_day
FROM cdr_call c
WHERE billable AND NOT EXISTS (SELECT 1 FROM cdr_cost k WHERE k.call_id = c.call_id)
ORDER BY call_day;
