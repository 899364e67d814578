-- Row count of the latest snapshot of one source (the row-count-collapse check compares
-- against it). Template filled by pipeline/warehouse/snapshot.py. Params: $source.
SELECT row_count
FROM {snapshot_table}
WHERE {scope_column} = $source
ORDER BY fetched_at DESC, snapshot_id DESC
LIMIT 1;
