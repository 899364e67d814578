-- A traffic profile (analytics/diff.py TRAFFIC_SCHEMA) from costed calls: minutes per month
-- per number and route, each call once, on its own route (cdr_cost.tech_prefix).
-- minutes = talk seconds in [$window_start, $last_day] / 60 x 30 / $covered_days, rounded once,
-- half up, to 6 places (exact: integers inside).
SELECT CAST(row_number() OVER (ORDER BY tech_prefix, number) AS BIGINT) AS line,
       tech_prefix, number AS key,
       CAST(CAST(div_round_half_up(CAST(sum(billsec) AS HUGEINT) * 30 * 1000000,
                                   60 * CAST($covered_days AS HUGEINT)) AS DECIMAL(18, 0))
            * CAST(0.000001 AS DECIMAL(7, 6)) AS DECIMAL(18, 6)) AS minutes
FROM cdr_cost
WHERE call_day BETWEEN $window_start AND $last_day
GROUP BY tech_prefix, number
ORDER BY line;
