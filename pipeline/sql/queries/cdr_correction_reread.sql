-- Each pending conflict (cdr_correction_pending, registered) against its row as the landed
-- file reads now (cdr_correction_rows: the calls ingest returns, with their file_id): those
-- whose row is not a call any more, or reads other values than the conflict recorded (the
-- settings that read it changed since its import: [cdr] format, timezone,
-- voice.tech_prefixes), in file order. NULL reads_now: no such call. No row: every conflict
-- reads as recorded.
SELECT p.file_id, p.original_name, p.row_number, p.raw ->> 'call_id' AS call_id, p.raw,
       CASE WHEN r.row_number IS NOT NULL THEN
           CAST(to_json({'call_id': r.call_id,
                         'started_at': CAST(timezone('UTC', r.started_at) AS VARCHAR) || ' UTC',
                         'number': r.number, 'tech_prefix': r.tech_prefix,
                         'duration_seconds': r.duration_seconds, 'billsec': r.billsec,
                         'disposition': r.disposition}) AS VARCHAR)
       END AS reads_now
FROM cdr_correction_pending p
LEFT JOIN cdr_correction_rows r ON r.file_id = p.file_id AND r.row_number = p.row_number
WHERE r.row_number IS NULL
   OR r.call_id IS DISTINCT FROM p.raw ->> 'call_id'
   OR CAST(timezone('UTC', r.started_at) AS VARCHAR) || ' UTC'
          IS DISTINCT FROM p.raw ->> 'started_at'
   OR r.number IS DISTINCT FROM p.raw ->> 'number'
   OR r.tech_prefix IS DISTINCT FROM p.raw ->> 'tech_prefix'
   OR r.duration_seconds IS DISTINCT FROM CAST(p.raw ->> 'duration_seconds' AS BIGINT)
   OR r.billsec IS DISTINCT FROM CAST(p.raw ->> 'billsec' AS BIGINT)
   OR r.disposition IS DISTINCT FROM p.raw ->> 'disposition'
ORDER BY p.file_id, p.row_number;
