-- One cdr_costing_log row for a costing of $day, totals read from cdr_cost as it now is.
-- Params: $costing_run, $day, $costed_at, $recost, $who, $why, $calls, $unmatched,
-- $cost_decimals, $old_total (NULL: the day had never been costed).
INSERT INTO cdr_costing_log
SELECT $costing_run, $day, $costed_at, $recost, $who, $why, $calls, $unmatched,
       $cost_decimals, $old_total, coalesce(sum(cost), 0)
FROM cdr_cost
WHERE call_day = $day;
