-- Which reconciliation results each finance email carried (docs/finance-email.md). A day's
-- disputed calls (every call the carrier billed otherwise than our CDRs and decks say) go out
-- in full once; a later email within the 7-day window says they were already reported, and
-- sends them again only when the day's disputes changed (a carrier re-export, a recost). The
-- same exactly-once machinery as report_change: pending_delivery_dispute is committed with the
-- pending message, report_dispute with report_log when it was delivered.

CREATE TABLE IF NOT EXISTS report_dispute (
    call_day         DATE NOT NULL,
    digest           VARCHAR NOT NULL,
    report_id        BIGINT NOT NULL,
    calls            INTEGER NOT NULL,
    cost_difference  DECIMAL(18, 8) NOT NULL,
    PRIMARY KEY (call_day, report_id)
);

CREATE TABLE IF NOT EXISTS pending_delivery_dispute (
    name             VARCHAR NOT NULL,
    call_day         DATE NOT NULL,
    digest           VARCHAR NOT NULL,
    calls            INTEGER NOT NULL,
    cost_difference  DECIMAL(18, 8) NOT NULL,
    PRIMARY KEY (call_day, name)
);

COMMENT ON TABLE report_dispute IS 'Which finance email carried each UTC day''s disputed calls (the reconciliation of docs/cdr.md), as they were then: a later email says they were already reported and does not attach them again unless the day''s disputes changed. Key: (call_day, report_id).';
COMMENT ON COLUMN report_dispute.call_day IS 'The UTC day whose disputed calls (reconcile_call rows of class other than exact) the email carried.';
COMMENT ON COLUMN report_dispute.digest IS 'sha256 of those calls as emailed (class, start, number, both call ids, seconds, rates and costs): another digest for the same day is news.';
COMMENT ON COLUMN report_dispute.report_id IS 'The report_log row of the email.';
COMMENT ON COLUMN report_dispute.calls IS 'Disputed calls of the day as emailed (0: the email said the day''s earlier disputes were gone).';
COMMENT ON COLUMN report_dispute.cost_difference IS 'Their sum of cost_difference as emailed, exact: > 0 the carrier charged more.';
COMMENT ON TABLE pending_delivery_dispute IS 'Bookkeeping: the days of disputed calls a pending report carries; moved to report_dispute when it is delivered. Key: (call_day, name).';
COMMENT ON COLUMN pending_delivery_dispute.name IS 'The pending_delivery it belongs to.';
COMMENT ON COLUMN pending_delivery_dispute.call_day IS 'As report_dispute.call_day.';
COMMENT ON COLUMN pending_delivery_dispute.digest IS 'As report_dispute.digest.';
COMMENT ON COLUMN pending_delivery_dispute.calls IS 'As report_dispute.calls.';
COMMENT ON COLUMN pending_delivery_dispute.cost_difference IS 'As report_dispute.cost_difference.';
