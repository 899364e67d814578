-- The content of a snapshot of the source already loaded at this very fetch time (whatever its
-- content; a replay of the same content was recognised before). Another content at the same
-- time would make a zero-length interval and a phantom change: the loader refuses it.
-- Template filled by pipeline/warehouse/snapshot.py. Params: $source, $fetched_at.
SELECT content_sha256
FROM {snapshot_table}
WHERE {scope_column} = $source AND fetched_at = $fetched_at
LIMIT 1;
