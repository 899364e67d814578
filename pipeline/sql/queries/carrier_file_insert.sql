-- One carrier_file row, its counts taken from the calls the export just added.
-- Params: $file_id, $content_sha256, $original_name, $raw_path, $valid_rows (rows ingest
-- accepted, duplicates included), $reject_count.
INSERT INTO carrier_file
SELECT $file_id, $content_sha256, $original_name, $raw_path, current_timestamp,
       count(*), $valid_rows - count(*), $reject_count, min(started_at), max(started_at)
FROM carrier_call
WHERE file_id = $file_id;
