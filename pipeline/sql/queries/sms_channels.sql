-- The SMS channels the warehouse has rates for (any version), in order.
-- Used by pipeline/analytics/diff.py:known_channels(), so `ratedeck diff --channel` can refuse
-- a channel it has never loaded instead of printing "no price changes".
SELECT DISTINCT channel FROM sms_rate ORDER BY channel;
