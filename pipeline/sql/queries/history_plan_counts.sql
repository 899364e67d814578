-- Outcome counts of history_plan (see history_plan.sql). Unchanged rows are not in the plan;
-- a carried version (its row refused) is, whether or not its end moves.
SELECT count(*) FILTER (WHERE action = 'open')     AS opened,
       count(*) FILTER (WHERE action = 'close')    AS closed,
       count(*) FILTER (WHERE action = 'withdraw') AS withdrawn,
       count(*) FILTER (WHERE action = 'keep'
                        AND stored_valid_to IS DISTINCT FROM new_valid_to) AS rechained,
       count(*) FILTER (WHERE carried)             AS kept_refused
FROM history_plan;
