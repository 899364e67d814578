-- The latest UTC day with costed calls or carrier calls (NULL: nothing to reconcile yet).
SELECT max(day) FROM (
    SELECT max(call_day) AS day FROM cdr_cost
    UNION ALL
    SELECT max(call_day) FROM carrier_call
);
