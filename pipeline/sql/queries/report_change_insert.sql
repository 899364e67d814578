-- Marks a report's changes as reported. report_keys (kind, change_id) is registered by the
-- caller; the primary key of report_change refuses a change reported twice.
INSERT INTO report_change (kind, change_id, report_id)
SELECT kind, change_id, ? FROM report_keys
