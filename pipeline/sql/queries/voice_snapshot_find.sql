-- Before loading a raw file: was this very file loaded already (replay), and is a newer
-- snapshot of the tech prefix already loaded (loads must come in time order)?
-- Params: tech_prefix, fetched_at, content_sha256, fetched_at, tech_prefix.
-- One row per matching snapshot (replay first), at most two rows. Times come back as text
-- (no time zone conversion on the Python side).
(SELECT 'replay' AS kind, snapshot_id, raw_path, row_count, reject_count,
        rates_opened, rates_closed, rates_withdrawn, rates_unchanged, NULL AS latest
 FROM voice_snapshot
 WHERE tech_prefix = ? AND fetched_at = ? AND content_sha256 = ?)
UNION ALL
(SELECT 'newer', snapshot_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        strftime(fetched_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%f+00:00')
 FROM voice_snapshot
 WHERE fetched_at > ? AND tech_prefix = ?
 ORDER BY fetched_at DESC
 LIMIT 1)
ORDER BY kind DESC;
