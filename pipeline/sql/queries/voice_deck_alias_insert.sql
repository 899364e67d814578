-- Record a download that served another tech prefix's deck (see voice_deck_alias_find.sql).
-- Params: $tech_prefix, $same_as, $snapshot_id, $fetched_at, $content_sha256, $raw_path.
INSERT INTO voice_deck_alias
    (tech_prefix, same_as, snapshot_id, fetched_at, content_sha256, raw_path)
VALUES ($tech_prefix, $same_as, $snapshot_id, $fetched_at, $content_sha256, $raw_path)
ON CONFLICT DO NOTHING;
