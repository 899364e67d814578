-- Records the disputes a pending report carried as emailed. Parameters: report_id, name.
INSERT INTO report_dispute (call_day, digest, report_id, calls, cost_difference)
SELECT call_day, digest, ?, calls, cost_difference FROM pending_delivery_dispute WHERE name = ?
