-- How many of a report's days of disputes (report_dispute_keys, registered by the caller) were
-- emailed as they are now since it was built, or are in a pending message.
SELECT count(*) FROM report_dispute_keys k
WHERE k.digest = (SELECT arg_max(r.digest, r.report_id) FROM report_dispute r
                  WHERE r.call_day = k.call_day)
   OR EXISTS (SELECT 1 FROM pending_delivery_dispute p WHERE p.call_day = k.call_day)
