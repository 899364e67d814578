-- A recost: the costs of the day whose call is not in the staged rows (cdr_staged) go.
-- Param: $day.
DELETE FROM cdr_cost AS k
WHERE k.call_day = $day
  AND NOT EXISTS (SELECT 1 FROM cdr_staged s WHERE s.call_id = k.call_id);
