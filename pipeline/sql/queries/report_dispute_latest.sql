-- The last emailed disputes of each UTC day $first..$last: what the email carried (digest,
-- calls, money) and when it was dated (report_log.created_at, its Date header).
SELECT d.call_day, d.digest, d.calls, d.cost_difference, l.created_at AS emailed_at
FROM report_dispute d
JOIN report_log l USING (report_id)
WHERE d.call_day BETWEEN CAST($first AS DATE) AND CAST($last AS DATE)
QUALIFY row_number() OVER (PARTITION BY d.call_day ORDER BY d.report_id DESC) = 1
ORDER BY d.call_day;
