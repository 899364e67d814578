-- The longest prefix of a number whose row the deck's latest download (at $at) refused:
-- ingest_reject.refused_key of that voice_snapshot. Such a row is not a removal (the price in
-- force before it is carried, see pipeline/warehouse/history.py), but a prefix refused before
-- it ever had a price cannot price the call, and lookup says so. Parameters: $tech_prefix
-- (the deck: an alias's own tech prefix loads no snapshot), $digits (normalised), $at.
-- No row: the download refused no prefix of the number.
WITH latest AS (
    SELECT snapshot_id, fetched_at
    FROM voice_snapshot
    WHERE tech_prefix = $tech_prefix AND fetched_at <= $at
    ORDER BY fetched_at DESC
    LIMIT 1
)
SELECT r.refused_key, r.reason, latest.fetched_at
FROM ingest_reject r
JOIN latest USING (snapshot_id)
WHERE r.kind = 'voice' AND r.refused_key IS NOT NULL AND starts_with($digits, r.refused_key)
ORDER BY length(r.refused_key) DESC, r.row_number
LIMIT 1;
