-- The latest UTC day up to $today with costed calls or carrier calls (NULL: nothing to
-- reconcile yet). A later day is a clock running ahead: it would move the window off the real
-- days (calls_after_today.sql counts what is left out).
SELECT max(day) FROM (
    SELECT max(call_day) AS day FROM cdr_cost WHERE call_day <= $today
    UNION ALL
    SELECT max(call_day) FROM carrier_call WHERE call_day <= $today
);
