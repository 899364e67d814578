-- Price changes one voice snapshot brought, by change type. Parameters: tech_prefix, snapshot_id.
SELECT change_type, count(*) AS changes
FROM voice_rate_change
WHERE tech_prefix = ? AND snapshot_id = ?
GROUP BY change_type
ORDER BY change_type;
