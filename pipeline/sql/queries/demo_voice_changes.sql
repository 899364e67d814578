-- `ratedeck demo`: voice price changes by type (day 2 against the day-1 baseline).
SELECT change_type, count(*) AS changes
FROM voice_rate_change
WHERE withdrawn_at IS NULL  -- a change taken back counts once, as its withdrawal
GROUP BY change_type
ORDER BY change_type;
