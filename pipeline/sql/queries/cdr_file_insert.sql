-- One cdr_file row, its counts taken from the calls the file just added.
-- Params: $file_id, $content_sha256, $original_name, $raw_path, $source_format,
-- $valid_rows (calls ingest accepted, repeats and conflicts included), $reject_count,
-- $conflict_count (the rows cdr_call_conflict_insert.sql refused).
INSERT INTO cdr_file
SELECT $file_id, $content_sha256, $original_name, $raw_path, $source_format,
       current_timestamp,
       count(*), count(*) FILTER (WHERE billable), count(*) FILTER (WHERE NOT billable),
       $valid_rows - count(*) - $conflict_count, $reject_count, min(started_at),
       max(started_at), $conflict_count
FROM cdr_call
WHERE file_id = $file_id;
