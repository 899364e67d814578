-- A file's calls into cdr_call, from the registered relation cdr_incoming (CDR_CALL_SCHEMA).
-- Params: $file_id, $file_key (sha256[:16]: names a call the switch gave no id), $first_day
-- and $last_day (the UTC days of the file's first and last calls; NULL for no call).
-- A call is its call_id on its UTC day, and counts once (cdr_file.duplicate_count says how
-- many were left out): a call id repeated on the same day in this file keeps its first row,
-- and a call id already stored for a call within a day of this one is the same call (an
-- overlapping export: the same call starts at the same moment; the day either side covers a
-- [cdr] timezone changed between the two imports). An id repeated further away is another
-- call (a switch that reuses its ids). Only the file's days of cdr_call are read (a day either
-- side), so an import takes as long after a year of calls as on the first day.
WITH incoming AS (
    SELECT coalesce(call_id, $file_key || ':' || row_number) AS call_id,
           CAST(timezone('UTC', started_at) AS DATE) AS call_day,
           * EXCLUDE (call_id)
    FROM cdr_incoming
)
INSERT INTO cdr_call
SELECT i.call_id, $file_id, i.row_number, i.started_at, i.call_day,
       i.dialled, i.number, i.tech_prefix, i.duration_seconds, i.billsec, i.billable,
       i.disposition
FROM incoming i
WHERE i.row_number IN (SELECT min(row_number) FROM incoming GROUP BY call_id, call_day)
  AND NOT EXISTS (
      SELECT 1 FROM cdr_call c
      WHERE c.call_day BETWEEN CAST($first_day AS DATE) - 1 AND CAST($last_day AS DATE) + 1
        AND c.call_id = i.call_id
        AND c.call_day BETWEEN i.call_day - 1 AND i.call_day + 1);
