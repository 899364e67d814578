-- The snapshot already loaded from this very raw file (a replay: loading it again is a no-op).
-- Template filled by pipeline/warehouse/snapshot.py ({snapshot_table}, {scope_column}).
-- Params: $source, $fetched_at, $content_sha256. The counts a feed's snapshot table has
-- (COLUMNS: the loader reads them by name); no time column (no time zone conversion).
SELECT snapshot_id, raw_path, COLUMNS('^(row|reject|unknown)_count$|^rates_')
FROM {snapshot_table}
WHERE {scope_column} = $source AND fetched_at = $fetched_at AND content_sha256 = $content_sha256;
