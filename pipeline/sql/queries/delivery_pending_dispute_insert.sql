-- The days of disputed calls a pending report carries. report_dispute_keys (call_day, digest,
-- calls, cost_difference) is registered by the caller. Parameter: the name.
INSERT INTO pending_delivery_dispute (name, call_day, digest, calls, cost_difference)
SELECT ?, call_day, digest, calls, cost_difference FROM report_dispute_keys
