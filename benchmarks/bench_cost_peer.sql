-- The SQL peer of `ratedeck cost` for benchmarks/bench_cost.py: plain DuckDB, the longest
-- prefix match as one equi-join per prefix length (12 down to 1; a longer deck prefix would
-- need one more), exact DECIMAL cost rounded as ratedeck rounds it (half up, once per call).
-- Run by benchmarks/cost_peers.py after ATTACHing the warehouse as `wh` (read-only) and
-- setting the variables tech_prefix and calls_csv; it then COPYies `costed` to Parquet.
-- Numbers are taken as they are (the synthetic calls are plain digits).
CREATE TEMP TABLE deck AS
SELECT row_number() OVER () AS id, prefix, destination, price, initial_seconds,
       increment_seconds, length(prefix) AS len,
       CAST(price * 100000000 AS BIGINT) AS price_units  -- exact: DECIMAL(18, 8) units
FROM wh.voice_rate
WHERE tech_prefix = getvariable('tech_prefix')
  AND valid_from <= now() AND (valid_to IS NULL OR valid_to > now());

CREATE TEMP VIEW costed AS
WITH calls AS (
    SELECT number, CAST(duration AS BIGINT) AS duration
    FROM read_csv(getvariable('calls_csv'), header = true,
                  columns = {'number': 'VARCHAR', 'duration': 'VARCHAR'})
),
matched AS (
    SELECT c.number, c.duration, coalesce(d12.id, d11.id, d10.id, d9.id, d8.id, d7.id, d6.id, d5.id, d4.id, d3.id, d2.id, d1.id) AS id
    FROM calls c
    LEFT JOIN (SELECT prefix, id FROM deck WHERE len = 12) d12 ON d12.prefix = left(c.number, 12)
    LEFT JOIN (SELECT prefix, id FROM deck WHERE len = 11) d11 ON d11.prefix = left(c.number, 11)
    LEFT JOIN (SELECT prefix, id FROM deck WHERE len = 10) d10 ON d10.prefix = left(c.number, 10)
    LEFT JOIN (SELECT prefix, id FROM deck WHERE len = 9) d9 ON d9.prefix = left(c.number, 9)
    LEFT JOIN (SELECT prefix, id FROM deck WHERE len = 8) d8 ON d8.prefix = left(c.number, 8)
    LEFT JOIN (SELECT prefix, id FROM deck WHERE len = 7) d7 ON d7.prefix = left(c.number, 7)
    LEFT JOIN (SELECT prefix, id FROM deck WHERE len = 6) d6 ON d6.prefix = left(c.number, 6)
    LEFT JOIN (SELECT prefix, id FROM deck WHERE len = 5) d5 ON d5.prefix = left(c.number, 5)
    LEFT JOIN (SELECT prefix, id FROM deck WHERE len = 4) d4 ON d4.prefix = left(c.number, 4)
    LEFT JOIN (SELECT prefix, id FROM deck WHERE len = 3) d3 ON d3.prefix = left(c.number, 3)
    LEFT JOIN (SELECT prefix, id FROM deck WHERE len = 2) d2 ON d2.prefix = left(c.number, 2)
    LEFT JOIN (SELECT prefix, id FROM deck WHERE len = 1) d1 ON d1.prefix = left(c.number, 1)
),
billed AS (
    SELECT m.number, m.duration, d.prefix AS matched_prefix, d.destination, d.price,
           d.price_units,
           CASE WHEN d.id IS NULL THEN NULL
                WHEN m.duration = 0 THEN 0
                WHEN m.duration <= d.initial_seconds THEN d.initial_seconds
                ELSE d.initial_seconds + (m.duration - d.initial_seconds
                     + d.increment_seconds - 1) // d.increment_seconds * d.increment_seconds
           END AS billed_seconds
    FROM matched m LEFT JOIN deck d ON d.id = m.id
)
SELECT number, duration, getvariable('tech_prefix') AS tech_prefix, matched_prefix,
       destination, price, billed_seconds,
       -- 6 decimals (ratedeck's default): price units (1e-8) x seconds / 6000 -> 1e-6
       -- units, half up; integers and DECIMAL only, never DOUBLE
       CAST(CAST((2 * CAST(price_units AS HUGEINT) * billed_seconds + 6000) // 12000
                 AS DECIMAL(18, 0)) * CAST(0.000001 AS DECIMAL(7, 6)) AS DECIMAL(18, 6)) AS cost
FROM billed;
