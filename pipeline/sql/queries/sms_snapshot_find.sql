-- The snapshot already loaded from one raw SMS file (replay detection).
-- Params: channel, fetched_at, content_sha256.
SELECT snapshot_id, raw_path, row_count, reject_count, unknown_count,
       rates_opened, rates_closed
FROM sms_snapshot
WHERE channel = ? AND fetched_at = ? AND content_sha256 = ?;
