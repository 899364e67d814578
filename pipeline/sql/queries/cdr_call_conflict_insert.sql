-- The corrected calls of a file (cdr_incoming), refused into ingest_reject with what differs
-- (docs/cdr.md#corrected-calls). Runs right after cdr_call_insert.sql, on the rows it left
-- out, so that "stored" includes the file's own first row of a call id on its day (in a file,
-- the first row wins). A left-out row is a repeat when a call stored under its id within a
-- day of it (the calls cdr_call_insert.sql found) has the same start, number, tech prefix,
-- duration, billsec and disposition; else a conflict with the nearest of them (the same day
-- first), which stands: nothing stored changes. billable is not compared: it follows from
-- billsec and disposition by the rule of the release that imported the call. A call named by
-- its record (no switch id) is compared on what its id does not hold and no setting changes:
-- the number as dialled, duration, billsec and disposition (an Asterisk record name is start,
-- channel and dstchannel: the same Dial attempt re-exported with other seconds conflicts; a
-- FreeSWITCH or generic record name holds its values, so it only ever repeats). Its start
-- (read in [cdr] timezone) and route (voice.tech_prefixes) are not compared: a grown file read
-- with other settings repeats its calls. A row stored under its former record name
-- (cdr_call_insert.sql) has no call under its id: a repeat. The same dialled number stored
-- with one more leading 00 after its tech prefix (imports until 0.2.0 kept that 00: dialled
-- 02100100353... was stored as 00353...) is the same number: the rule changed, not the call. As
-- cdr_call_insert.sql, only the file's days of cdr_call are read (a day either side).
-- Params: $file_id, $first_day, $last_day, and ingest_reject's $kind, $source, $fetched_at,
-- $content_sha256.
WITH left_out AS (
    SELECT i.row_number AS call_row, i.call_id, i.started_at, i.number, i.tech_prefix,
           i.duration_seconds, i.billsec, i.disposition, i.dialled, i.named_by_record,
           CAST(timezone('UTC', i.started_at) AS DATE) AS call_day
    FROM cdr_incoming i
    WHERE i.row_number NOT IN (SELECT row_number FROM cdr_call WHERE file_id = $file_id)
),
candidates AS (  -- each left-out row against the calls stored under its id within a day
    SELECT l.*, c.file_id AS stored_file, c.row_number AS stored_row,
           c.started_at AS stored_started_at, c.number AS stored_number,
           c.tech_prefix AS stored_tech_prefix, c.duration_seconds AS stored_duration,
           c.billsec AS stored_billsec, c.disposition AS stored_disposition,
           c.dialled AS stored_dialled,
           abs(c.call_day - l.call_day) AS days_apart,
           c.number = l.number
               OR (c.dialled = l.dialled AND c.number = '00' || l.number) AS same_number,
           CASE WHEN l.named_by_record THEN c.dialled = l.dialled
                ELSE c.started_at = l.started_at AND same_number
                     AND c.tech_prefix = l.tech_prefix END
               AND c.billsec = l.billsec
               AND c.duration_seconds IS NOT DISTINCT FROM l.duration_seconds
               AND c.disposition IS NOT DISTINCT FROM l.disposition AS same
    FROM left_out l
    JOIN cdr_call c
      ON c.call_id = l.call_id AND c.call_day BETWEEN l.call_day - 1 AND l.call_day + 1
    WHERE c.call_day BETWEEN CAST($first_day AS DATE) - 1 AND CAST($last_day AS DATE) + 1
),
nearest AS (  -- a row no stored call repeats conflicts with the nearest of them, which stands
    SELECT * FROM candidates
    WHERE call_row NOT IN (SELECT call_row FROM candidates WHERE same)
    QUALIFY row_number() OVER (PARTITION BY call_row
                               ORDER BY days_apart, stored_file, stored_row) = 1
),
shown AS (  -- only the conflicts (usually none or few) are worded
    SELECT *,
           CAST(timezone('UTC', started_at) AS VARCHAR) || ' UTC' AS start_text,
           CAST(timezone('UTC', stored_started_at) AS VARCHAR) || ' UTC' AS stored_start_text,
           coalesce(CAST(duration_seconds AS VARCHAR) || ' s', 'none') AS duration_text,
           coalesce(CAST(stored_duration AS VARCHAR) || ' s', 'none') AS stored_duration_text
    FROM nearest
),
differences AS (  -- each field that differs, as stored (was) and as the file says (now),
                  -- worded by call_conflict_reason (macros/300_call_conflict.sql)
    SELECT *,
           list_filter([
               {'differs': NOT named_by_record AND stored_started_at <> started_at,
                'was': 'start ' || stored_start_text, 'now': 'start ' || start_text},
               {'differs': NOT named_by_record AND NOT same_number,
                'was': 'number ' || stored_number, 'now': 'number ' || number},
               {'differs': named_by_record AND stored_dialled <> dialled,
                'was': 'number ' || stored_dialled, 'now': 'number ' || dialled},
               {'differs': NOT named_by_record AND stored_tech_prefix <> tech_prefix,
                'was': 'tech prefix ' || stored_tech_prefix, 'now': 'tech prefix ' || tech_prefix},
               {'differs': stored_duration IS DISTINCT FROM duration_seconds,
                'was': 'duration ' || stored_duration_text, 'now': 'duration ' || duration_text},
               {'differs': stored_billsec <> billsec,
                'was': stored_billsec || ' billed seconds', 'now': billsec || ' billed seconds'},
               {'differs': stored_disposition IS DISTINCT FROM disposition,
                'was': 'disposition ' || coalesce(stored_disposition, 'none'),
                'now': 'disposition ' || coalesce(disposition, 'none')}
           ], lambda f: f.differs) AS fields
    FROM shown
)
INSERT INTO ingest_reject (kind, source, snapshot_id, fetched_at, content_sha256,
                           row_number, sheet, raw, reason)
SELECT $kind, $source, $file_id, $fetched_at, $content_sha256, k.call_row, NULL,
       CAST(to_json({'call_id': k.call_id, 'started_at': k.start_text, 'number': k.number,
                     'tech_prefix': k.tech_prefix, 'duration_seconds': k.duration_seconds,
                     'billsec': k.billsec, 'disposition': k.disposition}) AS VARCHAR),
       call_conflict_reason(k.call_id, k.fields, k.stored_file = $file_id, k.stored_row,
                            f.original_name)
FROM differences k
LEFT JOIN cdr_file f ON f.file_id = k.stored_file  -- this file's own row is not written yet
ORDER BY k.call_row;
