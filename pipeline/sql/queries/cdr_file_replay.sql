-- The cdr_file already holding these bytes (a re-import is a no-op). Param: $content_sha256.
SELECT file_id, raw_path, row_count, reject_count, duplicate_count, conflict_count,
       refused_before_count
FROM cdr_file
WHERE content_sha256 = $content_sha256;
