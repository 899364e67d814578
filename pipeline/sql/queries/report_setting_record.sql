-- Records the [report] settings the views use (see sql/schema/060_report_setting.sql); a
-- no-op when they are already the stored ones. Parameters: reference_call_seconds,
-- cost_decimals.
UPDATE report_setting
SET reference_call_seconds = $seconds, cost_decimals = $decimals, updated_at = current_timestamp
WHERE reference_call_seconds <> $seconds OR cost_decimals <> $decimals;
