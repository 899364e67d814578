-- The UTC days an export's calls fall on. Param: $file_id.
SELECT DISTINCT strftime(call_day, '%Y-%m-%d') AS day FROM carrier_call WHERE file_id = $file_id ORDER BY day;
