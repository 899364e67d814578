-- Records the [reconcile] settings the reconcile views use; a no-op when they are already the
-- stored ones. Params: $tolerance_pct, $match_tolerance_s.
UPDATE reconcile_setting
SET tolerance_pct = $tolerance_pct, match_tolerance_s = $match_tolerance_s,
    updated_at = current_timestamp
WHERE tolerance_pct <> $tolerance_pct OR match_tolerance_s <> $match_tolerance_s;
