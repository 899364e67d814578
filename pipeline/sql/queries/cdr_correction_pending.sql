-- The refused conflicts (docs/cdr.md#corrected-calls) neither applied nor dismissed yet, with
-- their files, in file order: what `ratedeck cdr correct` may apply. A conflict is an
-- ingest_reject row of a CDR file whose raw is the call as the import read it
-- (cdr_call_conflict_insert.sql: exactly these keys); a reject's raw holds the file's own
-- columns instead. `stale`: its values are a version its call had before a correction
-- superseded it (a cdr_call_correction old_* within a day of it): a grown file repeating what
-- the switch said first, not a correction; applying it would revert one.
-- Params: $file_id (NULL: every file), $call_id (NULL: every call).
SELECT f.file_id, f.original_name, f.raw_path, f.content_sha256, r.row_number, r.raw,
       EXISTS (
           SELECT 1 FROM cdr_call_correction k
           WHERE k.call_id = r.raw ->> 'call_id'
             AND k.old_call_day BETWEEN CAST(left(r.raw ->> 'started_at', 10) AS DATE) - 1
                                    AND CAST(left(r.raw ->> 'started_at', 10) AS DATE) + 1
             AND CAST(timezone('UTC', k.old_started_at) AS VARCHAR) || ' UTC'
                 = r.raw ->> 'started_at'
             AND k.old_number = r.raw ->> 'number'
             AND k.old_tech_prefix = r.raw ->> 'tech_prefix'
             AND k.old_duration_seconds
                 IS NOT DISTINCT FROM CAST(r.raw ->> 'duration_seconds' AS BIGINT)
             AND k.old_billsec = CAST(r.raw ->> 'billsec' AS BIGINT)
             AND k.old_disposition IS NOT DISTINCT FROM r.raw ->> 'disposition'
       ) AS stale
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
  AND NOT EXISTS (SELECT 1 FROM cdr_conflict_dismissal d
                  WHERE d.file_id = f.file_id AND d.row_number = r.row_number)
ORDER BY f.file_id, r.row_number;
