-- The cdr_cost rows of a day's priced calls, from the registered relation cdr_priced (the
-- calls as cdr_day_calls returns them, with the engine's matched_prefix, destination, price,
-- billed_seconds, cost), without costed_at and costing_run (the commit sets them). The
-- increments, currency and valid_from come from the voice_rate version the engine used: the
-- one valid at the call's start for the matched prefix (same tie-break as lpm_rate_at).
-- The priced calls are materialised first: a registered frame has no statistics, and without
-- this DuckDB may join voice_rate by the time range alone before it applies the prefix
-- equality (1.2 billion candidate rows for 100k calls).
WITH priced AS MATERIALIZED (
    SELECT * FROM cdr_priced
),
used AS (
    SELECT p.call_id, r.initial_seconds, r.increment_seconds, r.currency, r.valid_from
    FROM priced p
    JOIN voice_rate r ON r.tech_prefix = p.rated_on AND r.prefix = p.matched_prefix
     AND r.valid_from <= p.started_at AND (r.valid_to IS NULL OR p.started_at < r.valid_to)
    QUALIFY row_number() OVER (
        PARTITION BY p.call_id
        ORDER BY r.valid_from DESC, r.valid_to DESC NULLS FIRST, r.price DESC,
                 r.initial_seconds DESC, r.increment_seconds DESC, r.destination) = 1
)
SELECT p.call_id, p.call_day, p.started_at, p.tech_prefix, p.rated_on, p.number, p.billsec,
       p.matched_prefix, p.destination, p.price, u.initial_seconds, u.increment_seconds,
       p.billed_seconds, p.cost, u.currency, u.valid_from AS rate_valid_from
FROM priced p
LEFT JOIN used u USING (call_id)
