-- Facts about one scope of a history table before a snapshot is applied:
--   * is $fetched_at older than history already recorded? Snapshots must arrive in time order.
--     Opening records first_seen_at; closing records valid_to (or withdrawn_at). The latest
--     time comes back as text, so no time zone conversion happens on the Python side.
--   * does the scope hold scheduled versions (valid from after $fetched_at, not withdrawn)?
-- Template filled by pipeline/warehouse/history.py.
WITH facts AS (
    SELECT max(greatest(first_seen_at,
                        CASE WHEN closed_snapshot_id IS NOT NULL
                             THEN coalesce(withdrawn_at, valid_to)
                             ELSE first_seen_at END)) AS seen,
           count(*) FILTER (WHERE withdrawn_at IS NULL AND valid_from > $fetched_at)
               AS scheduled
    FROM {table}
    WHERE {scope_pred}
)
SELECT coalesce(seen > $fetched_at, false),
       strftime(seen AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%f+00:00'),
       scheduled > 0
FROM facts;
