-- sms_rate.mnc of a pair the reference lacks was padded to 2 digits whatever its MCC: (311, 7)
-- read 311-07, where US networks publish 3-digit MNCs (311-007). The loader now pads such an
-- MNC to as many digits as its MCC's networks mostly publish in mcc_mnc
-- (queries/sms_enrich.sql, the same rule as here: more 3-digit than 2-digit preferred MNCs
-- gives 3); give the stored unknown pairs the same text, on every version of the pair alike.
-- Only the label changes: the history's key and sms_rate_change.change_id hash the integers,
-- so no version splits, no change id moves and a change already reported stays reported; the
-- next list's text matches the repaired versions.
UPDATE sms_rate
SET mnc = printf('%03d', mnc_int)
WHERE NOT known
  AND length(mnc) < 3
  AND mcc_int IN (
      SELECT mcc_int
      FROM mcc_mnc
      WHERE preferred
      GROUP BY mcc_int
      HAVING count(*) FILTER (WHERE length(mnc) = 3) > count(*) FILTER (WHERE length(mnc) = 2)
  );
COMMENT ON COLUMN sms_rate.mnc IS 'Mobile network code as text as published (''02'' and ''002'' differ); an unknown pair gets every digit of mnc_int, padded to as many digits as its MCC''s networks mostly publish in mcc_mnc: 3 (311, 7: ''007'') or else 2 (272, 5: ''05''; 210: ''210'').';
