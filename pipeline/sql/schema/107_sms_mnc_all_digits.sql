-- sms_rate.mnc of a pair the reference lacks was stored cut to 2 digits: the loader and 070
-- padded with lpad(text, 2, '0'), which also truncates longer text (lpad('210', 2, '0') is
-- '21'), so (9, 210) read 009-21 like (9, 21). Give such rows every digit, the way the loader
-- now writes them (printf('%02d', mnc_int)); text shorter than its number's digits is exactly
-- a cut one (the reference's text always has every digit). Only the label changes, on every
-- version of the pair alike: the history's key and sms_rate_change.change_id hash the
-- integers, so no version splits, no change id moves and a change already reported
-- (report_change) stays reported. The next list's text matches the repaired versions.
-- An MCC was never cut: the API's codes are at most 3 digits (pipeline/ingest/sms.py MAX_CODE).
UPDATE sms_rate
SET mnc = printf('%02d', mnc_int)
WHERE length(mnc) < length(CAST(mnc_int AS VARCHAR));
COMMENT ON COLUMN sms_rate.mnc IS 'Mobile network code as text as published (''02'' and ''002'' differ); an unknown pair gets every digit of mnc_int, at least 2 (5: ''05'', 210: ''210'').';
