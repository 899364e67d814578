-- The peer of bench_cdr_import: the duplicate check cdr_call_insert.sql made until
-- 2026-12-07, which looked for every incoming call id in the whole of cdr_call (each call id
-- counted once across all history). Same params and relation as cdr_call_insert.sql.
INSERT INTO cdr_call
SELECT coalesce(i.call_id, $file_key || ':' || i.row_number) AS call_id,
       $file_id, i.row_number, i.started_at,
       CAST(timezone('UTC', i.started_at) AS DATE) AS call_day,
       i.dialled, i.number, i.tech_prefix, i.duration_seconds, i.billsec, i.billable,
       i.disposition
FROM cdr_incoming i
WHERE NOT EXISTS (
    SELECT 1 FROM cdr_call c WHERE c.call_id = coalesce(i.call_id, $file_key || ':' || i.row_number))
QUALIFY row_number() OVER (
    PARTITION BY coalesce(i.call_id, $file_key || ':' || i.row_number) ORDER BY i.row_number) = 1;
