-- Each corrected stored call takes the values of its last correction (cdr_correction_plan,
-- registered), its file and row included: the lineage of cdr_call points to the row its
-- values came from; what they supersede is in cdr_call_correction. A stored call is its
-- (file_id, row_number), unique by construction.
UPDATE cdr_call AS c
SET file_id = p.file_id, row_number = p.row_number, started_at = p.started_at,
    call_day = p.call_day, dialled = p.dialled, number = p.number,
    tech_prefix = p.tech_prefix, duration_seconds = p.duration_seconds, billsec = p.billsec,
    billable = p.billable, disposition = p.disposition
FROM cdr_correction_plan p
WHERE p.last AND c.file_id = p.target_file AND c.row_number = p.target_row;
