-- What a call cost at a given moment: longest-prefix match in the deck as it stood then,
-- billing increments a/b (first a seconds minimum, then b-second steps), cost rounded once,
-- half-up, to 6 decimals - exactly, no floating point.
-- Parameters (optional, set first):
--   SET VARIABLE number = '+44 20 7123 4567';      -- +, 00, spaces, dashes, brackets ignored
--   SET VARIABLE seconds = 95;
--   SET VARIABLE tech_prefix = 'current';
--   SET VARIABLE call_at = TIMESTAMPTZ '2026-11-05 12:00:00+00';   -- default: now
WITH call AS (
    SELECT regexp_replace(regexp_replace(coalesce(getvariable('number'), '+44 20 7123 4567'),
                                         '[^0-9]', '', 'g'), '^00', '') AS number,
           CAST(coalesce(getvariable('seconds'), 60) AS BIGINT) AS seconds,
           coalesce(getvariable('tech_prefix'), 'current') AS tech_prefix,
           coalesce(getvariable('call_at')::TIMESTAMPTZ, current_timestamp) AS call_at
),
matched AS (
    SELECT c.number, c.seconds, c.call_at, r.tech_prefix, r.prefix, r.destination, r.price,
           r.initial_seconds, r.increment_seconds
    FROM voice_rate_at(coalesce(getvariable('call_at')::TIMESTAMPTZ, current_timestamp)) r
    JOIN call c ON r.tech_prefix = c.tech_prefix AND starts_with(c.number, r.prefix)
    ORDER BY length(r.prefix) DESC
    LIMIT 1
),
billed AS (
    SELECT *,
           CASE WHEN seconds <= 0 THEN 0
                WHEN seconds <= initial_seconds THEN initial_seconds
                ELSE initial_seconds + (seconds - initial_seconds + increment_seconds - 1)
                                       // increment_seconds * increment_seconds
           END AS billed_seconds
    FROM matched
)
SELECT number, call_at, tech_prefix, prefix AS matched_prefix, destination, price,
       initial_seconds || '/' || increment_seconds AS increments,
       seconds, billed_seconds,
       -- price has 8 decimals: price * 1e8 * billed / 60 / 100 = cost in millionths
       CAST(div_round_half_up(CAST(price * 100000000 AS HUGEINT) * billed_seconds, 6000)
            AS DECIMAL(18, 0)) * CAST(0.000001 AS DECIMAL(7, 6)) AS cost
FROM billed;
