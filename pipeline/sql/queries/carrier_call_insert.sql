-- An export's billed calls into carrier_call, from the registered relation carrier_incoming
-- (CARRIER_CALL_SCHEMA). Params: $file_id, $first_day and $last_day (the UTC days of the
-- export's first and last calls; NULL for no call). A call is its call_id on its UTC day and
-- counts once, by the rule of cdr_call_insert.sql: an id repeated on the same day in this
-- export keeps its first row; one already stored for a call within a day of this one is the
-- same call (an overlapping export), looked for on the export's days only; an id repeated
-- further away is another call.
WITH incoming AS (
    SELECT *, CAST(timezone('UTC', started_at) AS DATE) AS call_day FROM carrier_incoming
)
INSERT INTO carrier_call
SELECT i.call_id, $file_id, i.row_number, i.started_at, i.call_day,
       i.tech_prefix, i.number, i.destination, i.prefix, i.seconds, i.billed_seconds,
       i.rate, i.cost, i.currency
FROM incoming i
WHERE i.row_number IN (SELECT min(row_number) FROM incoming GROUP BY call_id, call_day)
  AND NOT EXISTS (
      SELECT 1 FROM carrier_call c
      WHERE c.call_day BETWEEN CAST($first_day AS DATE) - 1 AND CAST($last_day AS DATE) + 1
        AND c.call_id = i.call_id
        AND c.call_day BETWEEN i.call_day - 1 AND i.call_day + 1);
