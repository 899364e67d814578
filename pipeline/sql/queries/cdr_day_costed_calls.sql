-- The call ids of one UTC day that have a cost: a correction's recost reprices these (and the
-- calls it corrected), leaving calls no costing reached yet to `cdr cost`. Params: $day.
SELECT call_id FROM cdr_cost WHERE call_day = $day;
