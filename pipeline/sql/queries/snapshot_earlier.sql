-- Whether a source had a snapshot before this one (a first snapshot is the baseline of the
-- feed's change view: it reports no change). Template filled by pipeline/warehouse/snapshot.py.
-- Params: $source, $snapshot_id.
SELECT count(*) > 0 AS earlier
FROM {snapshot_table}
WHERE {scope_column} = $source AND snapshot_id < $snapshot_id;
