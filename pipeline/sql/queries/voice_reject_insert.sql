-- The rows ingest refused, from the registered relation voice_rejects_incoming (REJECT_SCHEMA).
-- Params: source (tech prefix), snapshot_id, fetched_at, content_sha256.
INSERT INTO ingest_reject (kind, source, snapshot_id, fetched_at, content_sha256,
                           row_number, sheet, raw, reason)
SELECT 'voice', ?, ?, ?, ?, row_number, sheet, raw, reason
FROM voice_rejects_incoming;
