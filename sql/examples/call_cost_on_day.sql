-- What a call cost at a given moment: longest-prefix match in the deck as it stood then,
-- billing increments a/b (first a seconds minimum, then b-second steps), cost rounded once,
-- half-up, to 6 decimals - exactly, no floating point. The rules are the lpm_rate and
-- call_cost macros (pipeline/sql/macros/100_lpm.sql), the same as `ratedeck cost` with the
-- default report.cost_decimals (6; the macros always round to 6).
-- Parameters (optional, set first), shown with their defaults:
--   SET VARIABLE number = '+44 20 7123 4567';      -- +, 00, spaces, dashes, brackets ignored
--   SET VARIABLE seconds = 60;
--   SET VARIABLE tech_prefix = 'current';
--   SET VARIABLE call_at = current_timestamp;      -- e.g. TIMESTAMPTZ '2026-12-06 12:00:00+00'
WITH call AS (
    SELECT coalesce(getvariable('number'), '+44 20 7123 4567') AS number,
           CAST(coalesce(getvariable('seconds'), 60) AS BIGINT) AS seconds,
           coalesce(getvariable('tech_prefix'), 'current') AS tech_prefix,
           coalesce(getvariable('call_at')::TIMESTAMPTZ, current_timestamp) AS call_at
)
SELECT r.number, c.call_at, r.tech_prefix, r.matched_prefix, r.destination, r.price,
       r.initial_seconds || '/' || r.increment_seconds AS increments,
       c.seconds,
       lpm_billed_seconds(c.seconds, r.initial_seconds, r.increment_seconds) AS billed_seconds,
       call_cost(c.number, c.seconds, c.tech_prefix, c.call_at) AS cost
FROM call c, lpm_rate(c.number, c.tech_prefix, c.call_at) r;
