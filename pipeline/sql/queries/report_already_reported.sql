-- How many of a report's changes (report_keys, registered by the caller) are already reported.
SELECT count(*) FROM report_keys k JOIN report_change r USING (kind, change_id)
