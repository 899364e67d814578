-- Outcome counts of history_plan (see history_plan.sql). Unchanged rows are not in the plan.
SELECT count(*) FILTER (WHERE action = 'open')     AS opened,
       count(*) FILTER (WHERE action = 'close')    AS closed,
       count(*) FILTER (WHERE action = 'withdraw') AS withdrawn,
       count(*) FILTER (WHERE action = 'keep')     AS rechained
FROM history_plan;
