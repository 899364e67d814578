-- The day's total cost so far, and whether it was ever costed. Param: $day.
SELECT coalesce((SELECT sum(cost) FROM cdr_cost WHERE call_day = $day), 0) AS total,
       EXISTS (SELECT 1 FROM cdr_costing_log WHERE call_day = $day) AS costed;
