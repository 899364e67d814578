-- Downloads per tech prefix: how many, first and latest, and what the latest one held.
SELECT tech_prefix,
       count(*) AS snapshots,
       min(fetched_at) AS first_fetched_at,
       max(fetched_at) AS last_fetched_at,
       arg_max(row_count, fetched_at) AS last_row_count,
       arg_max(reject_count, fetched_at) AS last_reject_count,
       sum(rates_opened) AS versions_added
FROM voice_snapshot
GROUP BY tech_prefix
ORDER BY tech_prefix;
