-- Names the (mcc, mnc) pairs of one SMS list from mcc_mnc, from the registered relation
-- sms_rows_incoming (SMS_RATE_SCHEMA: integers, as the API gives them). Integer API values
-- match the preferred published pair; a pair mcc_mnc lacks is kept with known = false.
-- mcc/mnc come out as text the way networks publish them (the reference's digits: '02' and
-- '002' differ); an unknown pair gets a 3-digit MCC and its MNC as many digits as its MCC's
-- networks mostly publish (mnc_digits: 3 in the US, 311-007; else 2, 272-05), every digit
-- kept: printf pads, never cuts (lpad('210', 2, '0') is '21').
WITH mnc_digits AS (
    SELECT mcc_int,
           CASE WHEN count(*) FILTER (WHERE length(mnc) = 3) > count(*) FILTER (WHERE length(mnc) = 2)
                THEN 3 ELSE 2 END AS digits
    FROM mcc_mnc
    WHERE preferred
    GROUP BY mcc_int
)
SELECT r.mcc AS mcc_int, r.mnc AS mnc_int,
       printf('%03d', r.mcc) AS mcc,
       coalesce(m.mnc, CASE WHEN d.digits = 3 THEN printf('%03d', r.mnc)
                            ELSE printf('%02d', r.mnc) END) AS mnc,
       r.rate, m.country, m.network, m.mcc_int IS NOT NULL AS known
FROM sms_rows_incoming r
LEFT JOIN mcc_mnc m ON m.mcc_int = r.mcc AND m.mnc_int = r.mnc AND m.preferred
LEFT JOIN mnc_digits d ON d.mcc_int = r.mcc
ORDER BY r.mcc, r.mnc;
