-- The window of costed calls the derived traffic profile reads: the $days UTC days ending
-- with the latest costed day up to $today (a later day is a clock running ahead), and how
-- many of them have call records at all (covered_days: from the first costed day, when that
-- is later than the window's start). No row: no calls.
-- From cdr_day's per-day counts: no stored call is read (cdr_traffic_profile.sql then reads
-- the window's calls only).
WITH bounds AS (
    SELECT max(call_day) AS last_day, min(call_day) AS first_day
    FROM cdr_day WHERE costed > 0 AND call_day <= $today
)
SELECT CAST(last_day - ($days - 1) AS DATE) AS window_start, last_day,
       CAST(last_day - greatest(CAST(last_day - ($days - 1) AS DATE), first_day) + 1 AS BIGINT)
           AS covered_days,
       (SELECT CAST(sum(d.costed) AS BIGINT) FROM cdr_day d
        WHERE d.call_day BETWEEN CAST(last_day - ($days - 1) AS DATE) AND last_day) AS calls
FROM bounds
WHERE last_day IS NOT NULL;
