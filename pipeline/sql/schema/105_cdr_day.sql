-- cdr_day: per UTC day, the counts and total that `ratedeck cdr status`, the days left to
-- cost (cdr_uncosted_days.sql) and the email's traffic-profile window (cdr_profile_window.sql)
-- read. Those queries counted every stored call (cdr_call, cdr_cost) per day at every run:
-- about 0.13-0.15 s at 30 days of 1M calls, 1.5-1.8 s at a year. The import and the costing
-- recount the days they change, inside their own transaction (cdr_day_counts.sql,
-- cdr_day_refresh.sql), so a row always equals the count of its day's calls and costs.
-- Built here from the calls and costs already stored (the same counts as cdr_day_counts.sql).
CREATE TABLE cdr_day (
    call_day   DATE PRIMARY KEY,
    calls      BIGINT NOT NULL,
    billable   BIGINT NOT NULL,
    costed     BIGINT NOT NULL,
    unmatched  BIGINT NOT NULL,
    total_cost DECIMAL(38, 8) NOT NULL
);

INSERT INTO cdr_day
SELECT call_day, CAST(sum(calls) AS BIGINT), CAST(sum(billable) AS BIGINT),
       CAST(sum(costed) AS BIGINT), CAST(sum(unmatched) AS BIGINT), sum(total_cost)
FROM (
    SELECT call_day, count(*) AS calls, count(*) FILTER (WHERE billable) AS billable,
           0 AS costed, 0 AS unmatched, CAST(0 AS DECIMAL(38, 8)) AS total_cost
    FROM cdr_call GROUP BY call_day
    UNION ALL
    SELECT call_day, 0, 0, count(*), count(*) FILTER (WHERE cost IS NULL),
           coalesce(sum(cost), 0)
    FROM cdr_cost GROUP BY call_day
)
GROUP BY call_day
ORDER BY call_day;

COMMENT ON TABLE cdr_day IS 'Per UTC day with calls or costs: how many calls were imported, how many bill, how many are costed and their total. Kept by the import and the costing in the same transaction as the calls and costs they write (a day is recounted from cdr_call and cdr_cost whenever one of them changes), so it always equals counting them; ratedeck cdr status, the days left to cost and the traffic profile''s window read it instead of every stored call. Key: call_day.';
COMMENT ON COLUMN cdr_day.call_day IS 'UTC day (cdr_call.call_day, cdr_cost.call_day). Key.';
COMMENT ON COLUMN cdr_day.calls IS 'Calls of the day in cdr_call (billable and not).';
COMMENT ON COLUMN cdr_day.billable IS 'Of those, calls that bill (cdr_call.billable).';
COMMENT ON COLUMN cdr_day.costed IS 'Costed calls of the day (rows of cdr_cost).';
COMMENT ON COLUMN cdr_day.unmatched IS 'Of those, calls no prefix matched at their start (cdr_cost.cost NULL).';
COMMENT ON COLUMN cdr_day.total_cost IS 'Sum of cdr_cost.cost of the day, exact (0 when none is costed or none matched).';
