-- Price changes one SMS snapshot brought, by change type. Parameters: channel, snapshot_id.
SELECT change_type, count(*) AS changes
FROM sms_rate_change
WHERE channel = ? AND snapshot_id = ?
GROUP BY change_type
ORDER BY change_type;
