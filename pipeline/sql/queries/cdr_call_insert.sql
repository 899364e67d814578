-- A file's calls into cdr_call, from the registered relation cdr_incoming (CDR_CALL_SCHEMA).
-- Params: $file_id, $file_key (sha256[:16]: names a call the switch gave no id).
-- A call counts once: one whose call_id is already stored (another file, an overlapping
-- export) or repeated in this file is left out (cdr_file.duplicate_count says how many).
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
