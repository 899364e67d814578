-- One balance_snapshot row. Params in column order.
INSERT INTO balance_snapshot (
    snapshot_id, fetched_at, loaded_at, email, balance, sms_balance, temporary_credit,
    content_sha256, raw_path)
VALUES (?, ?, current_timestamp, ?, ?, ?, ?, ?, ?);
