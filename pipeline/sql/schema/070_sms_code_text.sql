-- sms_rate: MCC and MNC as text, as the networks publish them ('02' and '002' are different
-- codes; an integer prints '02' as 2). The API gives integers: they stay, renamed mcc_int and
-- mnc_int, and remain the key of the history (and of sms_rate_change.change_id, so a change
-- already reported keeps its id). The text comes from the preferred mcc_mnc row of the pair;
-- a pair the reference lacks gets the MCC as 3 digits and the MNC as at least 2.
-- Existing rows are back-filled the same way: only the display form is added, no rate,
-- date or version changes.
DROP INDEX IF EXISTS sms_rate_channel_pair;
ALTER TABLE sms_rate RENAME COLUMN mcc TO mcc_int;
ALTER TABLE sms_rate RENAME COLUMN mnc TO mnc_int;
ALTER TABLE sms_rate ADD COLUMN mcc VARCHAR;
ALTER TABLE sms_rate ADD COLUMN mnc VARCHAR;
UPDATE sms_rate AS r
SET mcc = lpad(CAST(r.mcc_int AS VARCHAR), 3, '0'),
    mnc = coalesce(
        (SELECT m.mnc FROM mcc_mnc m
         WHERE m.mcc_int = r.mcc_int AND m.mnc_int = r.mnc_int AND m.preferred LIMIT 1),
        lpad(CAST(r.mnc_int AS VARCHAR), 2, '0'));
CREATE INDEX IF NOT EXISTS sms_rate_channel_pair ON sms_rate (channel, mcc_int, mnc_int);
