-- One voice_snapshot row. Params in column order.
INSERT INTO voice_snapshot (
    snapshot_id, tech_prefix, fetched_at, loaded_at, content_sha256, raw_path, source_format,
    row_count, reject_count, rates_opened, rates_closed, rates_withdrawn, rates_unchanged,
    has_effective_dates)
VALUES (?, ?, ?, current_timestamp, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
