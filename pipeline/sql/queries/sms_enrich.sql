-- Names the (mcc, mnc) pairs of one SMS list from mcc_mnc, from the registered relation
-- sms_rows_incoming (SMS_RATE_SCHEMA: integers, as the API gives them). Integer API values
-- match the preferred published pair; a pair mcc_mnc lacks is kept with known = false.
-- mcc/mnc come out as text the way networks publish them (the reference's digits: '02' and
-- '002' differ); an unknown pair gets a 3-digit MCC and an MNC of at least 2 digits, every
-- digit kept: printf pads, never cuts (lpad('210', 2, '0') is '21').
SELECT r.mcc AS mcc_int, r.mnc AS mnc_int,
       printf('%03d', r.mcc) AS mcc,
       coalesce(m.mnc, printf('%02d', r.mnc)) AS mnc,
       r.rate, m.country, m.network, m.mcc_int IS NOT NULL AS known
FROM sms_rows_incoming r
LEFT JOIN mcc_mnc m ON m.mcc_int = r.mcc AND m.mnc_int = r.mnc AND m.preferred
ORDER BY r.mcc, r.mnc;
