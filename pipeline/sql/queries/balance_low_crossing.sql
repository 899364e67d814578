-- The low-balance state of the most recently seen account. Param: the threshold.
-- One row: the latest snapshot and, when its balance is below the threshold, the crossing:
-- the first snapshot of the current run below it (after the last one at or above it, or the
-- account's first snapshot when it has never been at or above it).
WITH latest AS (
    SELECT * FROM balance_snapshot ORDER BY fetched_at DESC, snapshot_id DESC LIMIT 1
),
last_ok AS (
    SELECT max(b.fetched_at) AS ok_at
    FROM balance_snapshot b JOIN latest l ON b.email = l.email
    WHERE b.balance >= $threshold
),
crossing AS (
    SELECT b.snapshot_id, b.fetched_at, b.balance
    FROM balance_snapshot b JOIN latest l ON b.email = l.email
    WHERE b.fetched_at > coalesce((SELECT ok_at FROM last_ok), '-infinity'::TIMESTAMPTZ)
    ORDER BY b.fetched_at
    LIMIT 1
)
SELECT l.email, l.snapshot_id, l.fetched_at, l.balance, l.sms_balance, l.temporary_credit,
       l.balance < $threshold AS low,
       c.snapshot_id AS crossing_snapshot_id, c.fetched_at AS crossed_at,
       c.balance AS crossing_balance
FROM latest l LEFT JOIN crossing c ON l.balance < $threshold;
