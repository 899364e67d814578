-- The UTC days the corrections (cdr_correction_plan, registered) touch, before and after,
-- and whether each was ever costed (a cdr_costing_log row): those are recosted, the others
-- keep their corrected calls for the next costing of new calls.
SELECT d.call_day,
       EXISTS (SELECT 1 FROM cdr_costing_log l WHERE l.call_day = d.call_day) AS costed
FROM (SELECT old_call_day AS call_day FROM cdr_correction_plan
      UNION SELECT call_day FROM cdr_correction_plan) d
ORDER BY d.call_day;
