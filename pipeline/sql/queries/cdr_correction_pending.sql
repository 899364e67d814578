-- The refused conflicts (docs/cdr.md#corrected-calls) not applied yet, with their files, in
-- file order: what `ratedeck cdr correct` may apply. A conflict is an ingest_reject row of a
-- CDR file whose raw is the call as the import read it (cdr_call_conflict_insert.sql: exactly
-- these keys); a reject's raw holds the file's own columns instead.
-- Params: $file_id (NULL: every file), $call_id (NULL: every call).
SELECT f.file_id, f.original_name, f.raw_path, f.content_sha256, r.row_number, r.raw
FROM ingest_reject r
JOIN cdr_file f ON f.file_id = r.snapshot_id
WHERE r.kind = 'cdr'
  AND CASE WHEN json_valid(r.raw)
           THEN list_sort(json_keys(r.raw)) = ['billsec', 'call_id', 'disposition',
                                               'duration_seconds', 'number', 'started_at',
                                               'tech_prefix']
           ELSE false END
  AND (CAST($file_id AS BIGINT) IS NULL OR f.file_id = $file_id)
  AND (CAST($call_id AS VARCHAR) IS NULL OR r.raw ->> 'call_id' = $call_id)
  AND NOT EXISTS (SELECT 1 FROM cdr_call_correction k
                  WHERE k.file_id = f.file_id AND k.row_number = r.row_number)
ORDER BY f.file_id, r.row_number;
