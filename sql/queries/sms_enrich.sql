-- Names the (mcc, mnc) pairs of one SMS list from mcc_mnc, from the registered relation
-- sms_rows_incoming (SMS_RATE_SCHEMA). Integer API values match the preferred published pair;
-- a pair mcc_mnc lacks is kept with known = false.
SELECT r.mcc, r.mnc, r.rate,
       m.country, m.network, m.mcc_int IS NOT NULL AS known
FROM sms_rows_incoming r
LEFT JOIN mcc_mnc m ON m.mcc_int = r.mcc AND m.mnc_int = r.mnc AND m.preferred
ORDER BY r.mcc, r.mnc;
