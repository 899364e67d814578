-- The corrections being applied (cdr_correction_plan, registered: cdr_correction_plan.sql's
-- rows) into cdr_call_correction, with what each supersedes. Params: $applied_at, $who, $why.
INSERT INTO cdr_call_correction
SELECT file_id, row_number, call_id, call_day, $applied_at, $who, $why,
       old_file_id, old_row_number, old_started_at, old_call_day, old_dialled, old_number,
       old_tech_prefix, old_duration_seconds, old_billsec, old_billable, old_disposition,
       old_costed, old_cost
FROM cdr_correction_plan;
