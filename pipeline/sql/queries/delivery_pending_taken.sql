-- How many of a report's changes (report_keys, registered by the caller) a pending message
-- already covers.
SELECT count(*) FROM report_keys k JOIN pending_delivery_change p USING (kind, change_id)
