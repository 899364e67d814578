-- The carrier_file already holding these bytes (a re-import is a no-op). Param: $content_sha256.
-- (Conflicts are not looked for in carrier exports: a corrected row counts as a duplicate.)
SELECT file_id, raw_path, row_count, reject_count, duplicate_count, 0 AS conflict_count
FROM carrier_file
WHERE content_sha256 = $content_sha256;
