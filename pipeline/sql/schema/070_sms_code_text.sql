-- sms_rate: MCC and MNC as text, as the networks publish them ('02' and '002' are different
-- codes; an integer prints '02' as 2). The API gives integers: they stay, renamed mcc_int and
-- mnc_int, and remain the key of the history (and of sms_rate_change.change_id, so a change
-- already reported keeps its id). The text comes from the preferred mcc_mnc row of the pair;
-- a pair the reference lacks gets the MCC as 3 digits and the MNC as at least 2 (this file
-- first used lpad, which cut a 3-digit MNC to 2: 107_sms_mnc_all_digits.sql repairs those).
-- Existing rows are back-filled the same way: only the display form is added, no rate,
-- date or version changes.
DROP INDEX IF EXISTS sms_rate_channel_pair;
ALTER TABLE sms_rate RENAME COLUMN mcc TO mcc_int;
ALTER TABLE sms_rate RENAME COLUMN mnc TO mnc_int;
ALTER TABLE sms_rate ADD COLUMN mcc VARCHAR;
ALTER TABLE sms_rate ADD COLUMN mnc VARCHAR;
UPDATE sms_rate AS r
SET mcc = printf('%03d', r.mcc_int),
    mnc = coalesce(
        (SELECT m.mnc FROM mcc_mnc m
         WHERE m.mcc_int = r.mcc_int AND m.mnc_int = r.mnc_int AND m.preferred LIMIT 1),
        printf('%02d', r.mnc_int));  -- pads, never cuts (lpad('210', 2, '0') is '21')
CREATE INDEX IF NOT EXISTS sms_rate_channel_pair ON sms_rate (channel, mcc_int, mnc_int);
