-- The rows ingest refused, from the registered relation sms_rejects_incoming (REJECT_SCHEMA).
-- Params: source (SMS channel username:id), snapshot_id, fetched_at, content_sha256.
INSERT INTO ingest_reject (kind, source, snapshot_id, fetched_at, content_sha256,
                           row_number, sheet, raw, reason)
SELECT 'sms', ?, ?, ?, ?, row_number, sheet, raw, reason
FROM sms_rejects_incoming;
