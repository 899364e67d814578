-- One sms_snapshot row. Params in column order.
INSERT INTO sms_snapshot (
    snapshot_id, channel, fetched_at, loaded_at, content_sha256, raw_path,
    row_count, reject_count, unknown_count, rates_opened, rates_closed)
VALUES (?, ?, ?, current_timestamp, ?, ?, ?, ?, ?, ?, ?);
