-- An export's billed calls into carrier_call, from the registered relation carrier_incoming
-- (CARRIER_CALL_SCHEMA). Param: $file_id. A call id already stored (an overlapping export) or
-- repeated in this file is left out: each call counts once.
INSERT INTO carrier_call
SELECT i.call_id, $file_id, i.row_number, i.started_at,
       CAST(timezone('UTC', i.started_at) AS DATE) AS call_day,
       i.tech_prefix, i.number, i.destination, i.prefix, i.seconds, i.billed_seconds,
       i.rate, i.cost, i.currency
FROM carrier_incoming i
WHERE NOT EXISTS (SELECT 1 FROM carrier_call c WHERE c.call_id = i.call_id)
QUALIFY row_number() OVER (PARTITION BY i.call_id ORDER BY i.row_number) = 1;
