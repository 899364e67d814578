-- One sms_snapshot row. Named params: what pipeline/warehouse/snapshot.py knows of a load.
INSERT INTO sms_snapshot (
    snapshot_id, channel, fetched_at, loaded_at, content_sha256, raw_path,
    row_count, reject_count, unknown_count, rates_opened, rates_closed,
    rates_kept_refused)
VALUES ($snapshot_id, $source, $fetched_at, current_timestamp, $content_sha256, $raw_path,
        $row_count, $reject_count, $unknown_count, $rates_opened, $rates_closed,
        $rates_kept_refused);
