-- SMS rate changes (sms_rate_change) as the report and `ratedeck diff` show them.
-- Used by pipeline/analytics/diff.py:sms_changes().
--
-- Adds to the view's columns:
--   known         the rate version's own flag (sms_rate.known): false = the (mcc, mnc) pair was
--                 not in mcc_mnc when the rate was loaded (no country/network: flag, don't drop);
--   mcc_country   for an unknown pair, the country its MCC belongs to (the most common country
--                 of that MCC in mcc_mnc), so finance still sees where the messages go;
--   network_code  "272-01": mcc-mnc, both text as sms_rate stores them (the reference's
--                 digits; an unknown pair's MNC at least 2 digits).
--
-- Parameters: $channel (NULL = all), $since (NULL = all; changed_at >= since),
-- $unreported_only (skip changes already in report_change with kind 'sms').
WITH changes AS (
    SELECT c.*
    FROM sms_rate_change c
    WHERE ($channel IS NULL OR c.channel = $channel)
      AND ($since IS NULL OR c.changed_at >= $since)
      AND (NOT $unreported_only OR NOT EXISTS (
               SELECT 1 FROM report_change r
               WHERE r.kind = 'sms' AND r.change_id = c.change_id))
),
-- the rate version a change shows: the one it opened, or for 'removed' the one it closed
version AS (
    SELECT c.change_id, bool_and(r.known) AS known
    FROM changes c
    JOIN sms_rate r
      ON r.channel = c.channel AND r.mcc_int = c.mcc_int AND r.mnc_int = c.mnc_int
     AND r.withdrawn_at IS NULL
     AND CASE WHEN c.change_type = 'removed' THEN r.valid_to = c.changed_at
              ELSE r.valid_from = c.changed_at END
    GROUP BY c.change_id
),
mcc_country AS (
    SELECT mcc_int, country
    FROM (SELECT mcc_int, country, count(*) AS networks
          FROM mcc_mnc WHERE preferred GROUP BY mcc_int, country)
    QUALIFY row_number() OVER (PARTITION BY mcc_int ORDER BY networks DESC, country) = 1
)
SELECT c.change_id, c.channel, c.mcc, c.mnc,
       c.mcc || '-' || c.mnc AS network_code,
       c.country, c.network,
       coalesce(v.known, c.country IS NOT NULL) AS known,
       CASE WHEN NOT coalesce(v.known, c.country IS NOT NULL) THEN mc.country END AS mcc_country,
       c.change_type, c.old_rate, c.new_rate, c.rate_change, c.rate_change_pct,
       c.changed_at, c.snapshot_id
FROM changes c
LEFT JOIN version v USING (change_id)
LEFT JOIN mcc_country mc ON mc.mcc_int = c.mcc_int
ORDER BY c.channel, c.changed_at, c.mcc_int, c.mnc_int, c.change_type
