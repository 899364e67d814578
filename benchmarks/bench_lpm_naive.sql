-- Naive LPM costing for benchmarks/bench_lpm.py: expand every call into all the prefixes of
-- its number, join them to the deck, keep the longest match per call, cost it exactly
-- (integers: price in 1e-8 units × billed seconds / 6000 -> 1e-6 units, half up).
-- Inputs (registered frames): calls_frame(call_id, number, duration), deck_frame(prefix,
-- price, initial_seconds, increment_seconds). Returns one row: the total cost in 1e-6 units.
WITH expanded AS (
    SELECT call_id, duration, left(number, size) AS prefix
    FROM (SELECT call_id, duration, number, unnest(range(0, length(number) + 1)) AS size
          FROM calls_frame)
),
matched AS (
    SELECT e.call_id,
           arg_max(e.duration, length(d.prefix)) AS duration,
           arg_max(CAST(CAST(d.price AS DECIMAL(38, 8)) * 100000000 AS HUGEINT),
                   length(d.prefix)) AS price_units,
           arg_max(d.initial_seconds, length(d.prefix)) AS a,
           arg_max(d.increment_seconds, length(d.prefix)) AS b
    FROM expanded e JOIN deck_frame d ON d.prefix = e.prefix
    GROUP BY e.call_id
),
costed AS (
    SELECT price_units,
           CASE WHEN duration = 0 THEN 0
                WHEN duration <= a THEN a
                ELSE a + ((duration - a + b - 1) // b) * b END AS billed
    FROM matched
)
SELECT sum((2 * price_units * billed + 6000) // 12000) AS total_cost_units FROM costed;
