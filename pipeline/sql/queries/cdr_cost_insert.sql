-- A day's staged cdr_cost rows (the registered relation cdr_staged, priced without the
-- writer lock) into cdr_cost, except calls of the day costed already: a recost updates
-- those (cdr_cost_recost.sql). Params: $day, $costed_at, $costing_run.
INSERT INTO cdr_cost
SELECT s.*, $costed_at, $costing_run
FROM cdr_staged s
WHERE NOT EXISTS (
    SELECT 1 FROM cdr_cost k WHERE k.call_day = $day AND k.call_id = s.call_id);
