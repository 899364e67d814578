-- (Re)loads the mcc_mnc reference from data/reference/mcc_mnc.csv. Param: the CSV path.
-- Every column is read as text first so MNCs keep their published digits ('01' vs '001').
INSERT INTO mcc_mnc (mcc, mnc, mcc_int, mnc_int, iso, country, network, brand, operator,
                     status, source, preferred, ambiguous)
SELECT mcc, mnc, CAST(mcc_int AS INTEGER), CAST(mnc_int AS INTEGER),
       coalesce(iso, ''), coalesce(country, ''), coalesce(network, ''), coalesce(brand, ''),
       coalesce(operator, ''), coalesce(status, ''), source,
       CAST(preferred AS BOOLEAN), CAST(ambiguous AS BOOLEAN)
FROM read_csv(?, header = true, all_varchar = true, auto_detect = true);
