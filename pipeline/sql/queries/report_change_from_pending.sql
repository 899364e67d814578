-- Marks the changes a pending report covered as reported. Parameters: report_id, name.
INSERT INTO report_change (kind, change_id, report_id)
SELECT kind, change_id, ? FROM pending_delivery_change WHERE name = ?
