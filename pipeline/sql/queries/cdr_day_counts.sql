-- cdr_day's rows of the UTC days $first_day..$last_day, counted from the calls and costs of
-- those days (a day with neither has no row). The filter on call_day reaches both scans
-- through the UNION ALL and the grouping, so DuckDB's zone maps skip other days' row groups.
-- Params: $first_day, $last_day (DATE).
SELECT call_day, CAST(sum(calls) AS BIGINT) AS calls, CAST(sum(billable) AS BIGINT) AS billable,
       CAST(sum(costed) AS BIGINT) AS costed, CAST(sum(unmatched) AS BIGINT) AS unmatched,
       sum(total_cost) AS total_cost
FROM (
    SELECT call_day, count(*) AS calls, count(*) FILTER (WHERE billable) AS billable,
           0 AS costed, 0 AS unmatched, CAST(0 AS DECIMAL(38, 8)) AS total_cost
    FROM cdr_call GROUP BY call_day
    UNION ALL
    SELECT call_day, 0, 0, count(*), count(*) FILTER (WHERE cost IS NULL),
           coalesce(sum(cost), 0)
    FROM cdr_cost GROUP BY call_day
)
WHERE call_day BETWEEN $first_day AND $last_day
GROUP BY call_day
ORDER BY call_day;
