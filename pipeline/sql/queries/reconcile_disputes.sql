-- The calls of the UTC days $first..$last on which we and the carrier disagree (every class
-- but exact), one row per call, in start order: the dispute attachment. Days and moments stay
-- DATE and TIMESTAMPTZ: the workbook writes them as date cells (never text).
SELECT call_day, class, started_at, number, tech_prefix, destination, prefix,
       our_call_id, their_call_id, our_seconds, their_seconds, seconds_difference,
       our_billed_seconds, their_billed_seconds, our_increments,
       our_rate, our_rate_valid_from, their_rate, their_rate_valid_from,
       our_cost, their_cost, cost_difference
FROM reconcile_calls(CAST($first AS DATE), CAST($last AS DATE))
WHERE class <> 'exact'
ORDER BY started_at, number, our_call_id, their_call_id;
