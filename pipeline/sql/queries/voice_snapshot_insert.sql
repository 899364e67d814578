-- One voice_snapshot row. Named params: what pipeline/warehouse/snapshot.py knows of a load.
INSERT INTO voice_snapshot (
    snapshot_id, tech_prefix, fetched_at, loaded_at, content_sha256, raw_path, source_format,
    row_count, reject_count, rates_opened, rates_closed, rates_withdrawn, rates_unchanged,
    has_effective_dates, rates_kept_refused)
VALUES ($snapshot_id, $source, $fetched_at, current_timestamp, $content_sha256, $raw_path,
        $source_format, $row_count, $reject_count, $rates_opened, $rates_closed,
        $rates_withdrawn, $rates_unchanged, $has_effective_dates, $rates_kept_refused);
