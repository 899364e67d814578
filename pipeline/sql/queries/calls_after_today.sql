-- The calls dated after $today (a UTC day), ours (every imported call, from cdr_day's counts)
-- and the carrier's, and the latest of their days: what the finance email's windows leave out.
SELECT CAST(coalesce(sum(calls), 0) AS BIGINT) AS calls, max(day) AS latest FROM (
    SELECT call_day AS day, calls FROM cdr_day WHERE call_day > $today
    UNION ALL
    SELECT call_day, count(*) FROM carrier_call WHERE call_day > $today GROUP BY call_day
);
