-- Is this download the deck another tech prefix already holds? Another tech prefix whose latest
-- snapshot has these very bytes, provided this tech prefix has no history of its own (a tech
-- prefix with history keeps it: skipping its loads would leave its rates silently stale).
-- Params: $tech_prefix, $content_sha256. At most one row: same_as, snapshot_id.
WITH latest AS (
    SELECT tech_prefix, snapshot_id, content_sha256,
           row_number() OVER (PARTITION BY tech_prefix
                              ORDER BY fetched_at DESC, snapshot_id DESC) AS recency
    FROM voice_snapshot
    WHERE tech_prefix <> $tech_prefix
)
SELECT tech_prefix AS same_as, snapshot_id
FROM latest
WHERE recency = 1
  AND content_sha256 = $content_sha256
  AND NOT EXISTS (SELECT 1 FROM voice_snapshot WHERE tech_prefix = $tech_prefix)
ORDER BY snapshot_id
LIMIT 1;
