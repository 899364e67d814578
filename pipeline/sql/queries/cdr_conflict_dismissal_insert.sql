-- The pending conflicts being dismissed (cdr_correction_pending, registered: the rows of
-- cdr_correction_pending.sql) into cdr_conflict_dismissal. Params: $dismissed_at, $who, $why.
INSERT INTO cdr_conflict_dismissal
SELECT file_id, row_number, raw ->> 'call_id', $dismissed_at, $who, $why
FROM cdr_correction_pending;
