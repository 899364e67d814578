-- One carrier_file row, its counts taken from the calls the export just added.
-- Params: $file_id, $content_sha256, $original_name, $raw_path, $valid_rows (rows ingest
-- accepted, repeats and conflicts included), $reject_count, $conflict_count (the rows
-- carrier_call_conflict_insert.sql refused).
INSERT INTO carrier_file
SELECT $file_id, $content_sha256, $original_name, $raw_path, current_timestamp,
       count(*), $valid_rows - count(*) - $conflict_count, $reject_count, min(started_at),
       max(started_at), $conflict_count
FROM carrier_call
WHERE file_id = $file_id;
