-- Price changes one snapshot brought, by change type, from the feed's change view.
-- Template filled by pipeline/warehouse/snapshot.py ({change_view}, {scope_column}).
-- Params: $source, $snapshot_id.
SELECT change_type, count(*) AS changes
FROM {change_view}
WHERE {scope_column} = $source AND snapshot_id = $snapshot_id
GROUP BY change_type
ORDER BY change_type;
