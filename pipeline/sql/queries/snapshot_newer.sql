-- The time-order rule of every feed: the latest snapshot of the source fetched after
-- $fetched_at (NULL when there is none). Snapshots of one source load in time order.
-- Template filled by pipeline/warehouse/snapshot.py. Params: $source, $fetched_at.
-- The time comes back as text (no time zone conversion on the Python side).
SELECT strftime(max(fetched_at) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%f+00:00')
FROM {snapshot_table}
WHERE {scope_column} = $source AND fetched_at > $fetched_at;
