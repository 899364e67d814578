-- The cdr_file(s) `cdr correct --file TEXT` may mean: its file id, its original name, or the
-- start of its sha256 (at least $min_sha hex digits). Params: $text, $min_sha.
SELECT file_id, original_name
FROM cdr_file
WHERE CAST(file_id AS VARCHAR) = $text
   OR original_name = $text
   OR (length($text) >= $min_sha AND content_sha256 LIKE lower($text) || '%'
       AND regexp_full_match(lower($text), '[0-9a-f]+'))
ORDER BY file_id;
