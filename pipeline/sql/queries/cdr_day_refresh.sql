-- cdr_day's rows of the UTC days $first_day..$last_day become the registered relation
-- cdr_day_fresh (cdr_day_counts.sql of the same days): run by the import and the costing in
-- their own transaction, after they wrote the days' calls or costs.
-- Params: $first_day, $last_day (DATE).
MERGE INTO cdr_day AS d
USING cdr_day_fresh AS f
ON d.call_day = f.call_day
WHEN MATCHED THEN UPDATE SET
    calls = f.calls, billable = f.billable, costed = f.costed, unmatched = f.unmatched,
    total_cost = f.total_cost
WHEN NOT MATCHED THEN INSERT VALUES
    (f.call_day, f.calls, f.billable, f.costed, f.unmatched, f.total_cost)
WHEN NOT MATCHED BY SOURCE AND d.call_day BETWEEN $first_day AND $last_day THEN DELETE;
