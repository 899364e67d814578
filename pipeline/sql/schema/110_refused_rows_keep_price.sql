-- A refused row is not a removal (docs/analysts.md#refused-rows). A deck row (or an SMS rate)
-- that ingest refused, say for a price of 'n/a', left its key out of the snapshot's valid
-- rows, and the history closed the key's version as if the carrier had dropped it: a false
-- 'removed' in the finance email (never rewritten once reported) and the calls priced on a
-- shorter prefix. Now ingest names the key a refused row stood for (when that key itself could
-- be read) and the history keeps the key's version in force: carried forward unchanged, no
-- change row. Rejects stored before keep NULL (their key was never read); snapshots loaded
-- before kept none (0).
ALTER TABLE ingest_reject ADD COLUMN refused_key VARCHAR;
ALTER TABLE voice_snapshot ADD COLUMN rates_kept_refused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sms_snapshot ADD COLUMN rates_kept_refused INTEGER NOT NULL DEFAULT 0;

COMMENT ON COLUMN ingest_reject.refused_key IS 'The key the refused row stood for, when that key itself was readable: a voice row''s prefix (''35389''), an SMS row''s pair as the API''s integers ''mcc-mnc'' (''272-3''). The history keeps that key''s version in force (a refused row is not a removal). NULL when the key field (or the row''s shape) was what was refused, for an identical repeat (its key is in the snapshot), for CDR and carrier rows, and for rejects loaded before migration 110.';
COMMENT ON COLUMN voice_snapshot.rates_kept_refused IS 'Versions in force that this deck refused the row of (ingest_reject.refused_key) and did not otherwise carry: kept open at their previous price, not closed as removed. 0 for decks loaded before migration 110.';
COMMENT ON COLUMN sms_snapshot.rates_kept_refused IS 'Rates in force whose row this list refused (ingest_reject.refused_key) and did not otherwise carry: kept open at their previous rate, not closed as withdrawn. 0 for lists loaded before migration 110.';
