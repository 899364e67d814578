-- A file's calls into cdr_call, from the registered relation cdr_incoming (CDR_CALL_SCHEMA:
-- every call has an id, the switch's or, without one, its record's: ingest/cdr.py).
-- Params: $file_id, $first_day and $last_day (the UTC days of the file's first and last calls;
-- NULL for no call).
-- A call is its call_id on its UTC day, and counts once (cdr_file.duplicate_count says how
-- many were left out as repeats; cdr_call_conflict_insert.sql then refuses, as conflicts, the
-- rows left out with other values than the call kept): a call id repeated on the same day in
-- this file keeps its first row,
-- and a call id already stored for a call within a day of this one is the same call (an
-- overlapping export, a grown append-only file: the same call starts at the same moment; the
-- day either side covers a [cdr] timezone changed between the two imports). An id repeated
-- further away is another call (a switch that reuses its ids). Only the file's days of
-- cdr_call are read (a day either side), so an import takes as long after a year of calls as
-- on the first day.
-- Before migration 103 a call without a switch id was named by its file, <sha256[:16]>:<row>.
-- Such a stored call is the same call as an incoming one at the same row with the same start,
-- number and seconds (the same record of a file that grew since: an append-only file keeps
-- its rows where they were), so a grown Master.csv does not bring those calls twice.
-- Asterisk calls without uniqueid were named by start, dst, seconds, disposition and channel
-- until start, channel and dstchannel named them (ingest/cdr.py): a call stored under its
-- former record name (i.former_call_id) within a day is the same call too.
WITH incoming AS (
    SELECT *, CAST(timezone('UTC', started_at) AS DATE) AS call_day FROM cdr_incoming
),
named_by_file AS (
    SELECT c.call_day, c.row_number, c.started_at, c.dialled, c.duration_seconds, c.billsec,
           c.disposition
    FROM cdr_call c JOIN cdr_file f USING (file_id)
    WHERE c.call_day BETWEEN CAST($first_day AS DATE) - 1 AND CAST($last_day AS DATE) + 1
      AND c.call_id LIKE '________________:%'  -- cheap: most ids are not of that shape
      AND c.call_id = left(f.content_sha256, 16) || ':' || c.row_number
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
        AND c.call_day BETWEEN i.call_day - 1 AND i.call_day + 1)
  AND NOT EXISTS (
      SELECT 1 FROM cdr_call c
      WHERE c.call_day BETWEEN CAST($first_day AS DATE) - 1 AND CAST($last_day AS DATE) + 1
        AND c.call_id = i.former_call_id
        AND c.call_day BETWEEN i.call_day - 1 AND i.call_day + 1)
  AND NOT EXISTS (
      SELECT 1 FROM named_by_file n
      WHERE n.call_day = i.call_day AND n.row_number = i.row_number
        AND n.started_at = i.started_at AND n.dialled = i.dialled AND n.billsec = i.billsec
        AND n.duration_seconds IS NOT DISTINCT FROM i.duration_seconds
        AND n.disposition IS NOT DISTINCT FROM i.disposition);
