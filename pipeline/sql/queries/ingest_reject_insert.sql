-- The rows ingest refused, from the registered relation rejects_incoming (REJECT_SCHEMA).
-- Params: $kind (voice, sms), $source (tech prefix, SMS channel), $snapshot_id, $fetched_at,
-- $content_sha256.
INSERT INTO ingest_reject (kind, source, snapshot_id, fetched_at, content_sha256,
                           row_number, sheet, raw, reason)
SELECT $kind, $source, $snapshot_id, $fetched_at, $content_sha256, row_number, sheet, raw, reason
FROM rejects_incoming;
