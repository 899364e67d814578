-- The first refused rows of a call file (a CDR file, a carrier export): ingest's rejects and
-- the conflicts the load found, in file order. Params: $kind (cdr, carrier), $file_id, $limit.
SELECT row_number, reason
FROM ingest_reject
WHERE kind = $kind AND snapshot_id = $file_id
ORDER BY row_number
LIMIT $limit;
