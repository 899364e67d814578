-- The report settings the warehouse's own views use (one row): voice_rate_change judges
-- up/down by a reference call of reference_call_seconds, costed to cost_decimals, like the
-- finance email. Written by ratedeck from [report] whenever it loads a voice deck or sends a
-- report (pipeline/warehouse/report_setting.py); the defaults until then.
CREATE TABLE IF NOT EXISTS report_setting (
    id                      BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
    reference_call_seconds  INTEGER NOT NULL CHECK (reference_call_seconds > 0),
    cost_decimals           INTEGER NOT NULL CHECK (cost_decimals BETWEEN 0 AND 8),
    updated_at              TIMESTAMPTZ
);
INSERT INTO report_setting (id, reference_call_seconds, cost_decimals)
SELECT true, 150, 6 WHERE NOT EXISTS (SELECT 1 FROM report_setting);
