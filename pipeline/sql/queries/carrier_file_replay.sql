-- The carrier_file already holding these bytes (a re-import is a no-op). Param: $content_sha256.
SELECT file_id, raw_path, row_count, reject_count, duplicate_count, conflict_count,
       0 AS refused_before_count  -- carrier exports store every reject
FROM carrier_file
WHERE content_sha256 = $content_sha256;
