-- What applying the pending conflicts (cdr_correction_rows: each refused row as its landed
-- file reads, checked against its conflict; file_id added) does: one row per correction that
-- changes a stored call, with the values it supersedes. A correction's stored call is found
-- as the import found it (cdr_call_conflict_insert.sql): under its call id within a day of
-- it, the nearest (the same day first). Several corrections of one call apply in file order,
-- each superseding the one before (the chain starts with the stored call); one that says what
-- it would supersede changes nothing and is left out. A row with no stored call under its id
-- within a day (an earlier correction moved it) is left out too. Money: the stored call's
-- cost goes with the first correction of the chain (it is what was costed).
WITH corrections AS (
    SELECT *, CAST(timezone('UTC', started_at) AS DATE) AS call_day FROM cdr_correction_rows
),
targets AS (
    SELECT r.file_id, r.row_number, c.file_id AS target_file, c.row_number AS target_row
    FROM corrections r
    JOIN cdr_call c
      ON c.call_id = r.call_id AND c.call_day BETWEEN r.call_day - 1 AND r.call_day + 1
    QUALIFY row_number() OVER (PARTITION BY r.file_id, r.row_number
                               ORDER BY abs(c.call_day - r.call_day), c.file_id,
                                        c.row_number) = 1
),
chain AS (  -- per stored call: itself (seq 0), then its corrections in file order
    SELECT c.file_id AS target_file, c.row_number AS target_row, 0 AS seq, c.file_id,
           c.row_number, c.call_id, c.started_at, c.call_day, c.dialled, c.number,
           c.tech_prefix, c.duration_seconds, c.billsec, c.billable, c.disposition
    FROM cdr_call c
    WHERE EXISTS (SELECT 1 FROM targets t
                  WHERE t.target_file = c.file_id AND t.target_row = c.row_number)
    UNION ALL
    SELECT t.target_file, t.target_row,
           row_number() OVER (PARTITION BY t.target_file, t.target_row
                              ORDER BY r.file_id, r.row_number),
           r.file_id, r.row_number, r.call_id, r.started_at, r.call_day, r.dialled,
           r.number, r.tech_prefix, r.duration_seconds, r.billsec, r.billable, r.disposition
    FROM corrections r JOIN targets t USING (file_id, row_number)
),
superseding AS (
    SELECT *,
           lag(file_id) OVER w AS old_file_id, lag(row_number) OVER w AS old_row_number,
           lag(started_at) OVER w AS old_started_at, lag(call_day) OVER w AS old_call_day,
           lag(dialled) OVER w AS old_dialled, lag(number) OVER w AS old_number,
           lag(tech_prefix) OVER w AS old_tech_prefix,
           lag(duration_seconds) OVER w AS old_duration_seconds,
           lag(billsec) OVER w AS old_billsec, lag(billable) OVER w AS old_billable,
           lag(disposition) OVER w AS old_disposition
    FROM chain
    WINDOW w AS (PARTITION BY target_file, target_row ORDER BY seq)
),
changing AS (
    SELECT * FROM superseding
    WHERE seq > 0
      AND (started_at <> old_started_at OR dialled <> old_dialled OR number <> old_number
           OR tech_prefix <> old_tech_prefix OR billsec <> old_billsec
           OR billable <> old_billable
           OR duration_seconds IS DISTINCT FROM old_duration_seconds
           OR disposition IS DISTINCT FROM old_disposition)
),
ordered AS (  -- the lineage skips the left-out ones: the first supersedes the stored call
    SELECT * REPLACE (
               coalesce(lag(file_id) OVER v, target_file) AS old_file_id,
               coalesce(lag(row_number) OVER v, target_row) AS old_row_number),
           row_number() OVER v = 1 AS first,
           row_number() OVER (PARTITION BY target_file, target_row ORDER BY seq DESC) = 1
               AS last
    FROM changing
    WINDOW v AS (PARTITION BY target_file, target_row ORDER BY seq)
)
SELECT o.file_id, f.original_name, o.row_number, o.call_id, o.started_at, o.call_day, o.dialled, o.number,
       o.tech_prefix, o.duration_seconds, o.billsec, o.billable, o.disposition,
       o.target_file, o.target_row, o.last, o.old_file_id, o.old_row_number, o.old_started_at, o.old_call_day, o.old_dialled, o.old_number, o.old_tech_prefix,
       o.old_duration_seconds, o.old_billsec, o.old_billable, o.old_disposition,
       o.first AND k.call_id IS NOT NULL AS old_costed,
       CASE WHEN o.first THEN k.cost END AS old_cost
FROM ordered o
JOIN cdr_file f ON f.file_id = o.file_id
LEFT JOIN cdr_cost k ON o.first AND k.call_id = o.call_id AND k.call_day = o.old_call_day
ORDER BY o.file_id, o.row_number;
