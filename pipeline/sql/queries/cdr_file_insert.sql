-- One cdr_file row, its counts taken from the calls the file just added.
-- Params: $file_id, $content_sha256, $original_name, $raw_path, $source_format,
-- $valid_rows (calls ingest accepted, repeats and conflicts included), $reject_count,
-- $conflict_count (the rows cdr_call_conflict_insert.sql refused), $refused_before_count
-- (rejects an earlier import refused, not stored again: cdr_reject_refused_before.sql).
INSERT INTO cdr_file (file_id, content_sha256, original_name, raw_path, source_format,
                      imported_at, row_count, billable_count, unbillable_count,
                      duplicate_count, reject_count, first_started_at, last_started_at,
                      conflict_count, refused_before_count)
SELECT $file_id, $content_sha256, $original_name, $raw_path, $source_format,
       current_timestamp,
       count(*), count(*) FILTER (WHERE billable), count(*) FILTER (WHERE NOT billable),
       $valid_rows - count(*) - $conflict_count, $reject_count, min(started_at),
       max(started_at), $conflict_count, $refused_before_count
FROM cdr_call
WHERE file_id = $file_id;
