-- The rows ingest refused, from the registered relation rejects_incoming (KEYED_REJECT_SCHEMA:
-- refused_key NULL for a feed whose rejects name no key).
-- Params: $kind (voice, sms), $source (tech prefix, SMS channel), $snapshot_id, $fetched_at,
-- $content_sha256.
INSERT INTO ingest_reject (kind, source, snapshot_id, fetched_at, content_sha256,
                           row_number, sheet, raw, reason, refused_key)
SELECT $kind, $source, $snapshot_id, $fetched_at, $content_sha256, row_number, sheet, raw, reason,
       refused_key
FROM rejects_incoming;
