-- The UTC days a file's calls fall on (the cdr_costs partitions it touches). Param: $file_id.
SELECT DISTINCT strftime(call_day, '%Y-%m-%d') AS day FROM cdr_call WHERE file_id = $file_id ORDER BY day;
