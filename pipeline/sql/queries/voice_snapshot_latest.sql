-- Row count of the latest snapshot of one tech prefix. Params: tech_prefix.
SELECT row_count
FROM voice_snapshot
WHERE tech_prefix = ?
ORDER BY fetched_at DESC, snapshot_id DESC
LIMIT 1;
