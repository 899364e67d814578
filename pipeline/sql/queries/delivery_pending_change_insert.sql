-- The changes a pending report covers. report_keys (kind, change_id) is registered by the
-- caller; the primary key refuses a change pending in two messages. Parameter: the name.
INSERT INTO pending_delivery_change (kind, change_id, name)
SELECT kind, change_id, ? FROM report_keys
