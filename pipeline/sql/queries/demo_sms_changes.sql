-- `ratedeck demo`: SMS rate changes by type (day 2 against the day-1 baseline).
SELECT change_type, count(*) AS changes
FROM sms_rate_change
GROUP BY change_type
ORDER BY change_type;
