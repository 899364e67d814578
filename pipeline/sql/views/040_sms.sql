-- SMS views and table macros. Re-created on every migration run (CREATE OR REPLACE).

-- The rates valid now, per channel and (mcc, mnc).
CREATE OR REPLACE VIEW sms_rate_current AS
SELECT channel, mcc, mnc, rate, country, network, known, valid_from, valid_to, first_seen_at,
       mcc_int, mnc_int
FROM sms_rate
WHERE withdrawn_at IS NULL
  AND valid_from <= current_timestamp
  AND (valid_to IS NULL OR current_timestamp < valid_to);
COMMENT ON VIEW sms_rate_current IS 'The SMS rates in force now, one row per (channel, mcc_int, mnc_int).';
COMMENT ON COLUMN sms_rate_current.channel IS 'SMS channel ''username:id''.';
COMMENT ON COLUMN sms_rate_current.mcc IS 'Mobile country code as text, 3 digits, e.g. ''272''.';
COMMENT ON COLUMN sms_rate_current.mnc IS 'Mobile network code as text as published, e.g. ''01''.';
COMMENT ON COLUMN sms_rate_current.rate IS 'Price per message in the account currency, exact DECIMAL(18, 8).';
COMMENT ON COLUMN sms_rate_current.country IS 'Country from mcc_mnc; NULL when the network is unknown.';
COMMENT ON COLUMN sms_rate_current.network IS 'Network name from mcc_mnc; NULL when the network is unknown.';
COMMENT ON COLUMN sms_rate_current.known IS 'false: mcc_mnc does not list this (mcc, mnc) pair (an unknown network, kept).';
COMMENT ON COLUMN sms_rate_current.valid_from IS 'In force since (UTC, inclusive).';
COMMENT ON COLUMN sms_rate_current.valid_to IS 'In force until (UTC, exclusive); NULL: no end known.';
COMMENT ON COLUMN sms_rate_current.first_seen_at IS 'When ratedeck first saw this rate (UTC).';
COMMENT ON COLUMN sms_rate_current.mcc_int IS 'Mobile country code as the API gives it (integer).';
COMMENT ON COLUMN sms_rate_current.mnc_int IS 'Mobile network code as the API gives it (integer).';

-- The rates as they stood at any moment:
--   SELECT * FROM sms_rate_at(TIMESTAMPTZ '2026-11-05 12:00:00+00') WHERE channel = 'acme:1';
CREATE OR REPLACE MACRO sms_rate_at(at_ts) AS TABLE
SELECT channel, mcc, mnc, rate, country, network, known, valid_from, valid_to, first_seen_at,
       mcc_int, mnc_int
FROM sms_rate
WHERE withdrawn_at IS NULL
  AND valid_from <= at_ts::TIMESTAMPTZ
  AND (valid_to IS NULL OR at_ts::TIMESTAMPTZ < valid_to);
COMMENT ON MACRO TABLE sms_rate_at IS 'sms_rate_at(at_ts): the SMS rates of every channel as they stood at at_ts (TIMESTAMPTZ); the columns of sms_rate_current.';

-- mcc, mnc: text as the networks publish them ('272', '02'); mcc_int, mnc_int: the API's
-- integers (the key of the history).

-- One row per rate change between consecutive snapshots of a channel.
-- change_type: new | removed | increase | decrease. A new version whose rate did not change
-- (only the reference name of the network moved) is not a change.
-- The baseline is the channel's first snapshot that carried rows (an empty list is not a
-- price list to compare against): it yields no rows.
CREATE OR REPLACE VIEW sms_rate_change AS
WITH baseline AS (
    SELECT channel, min(snapshot_id) AS baseline_snapshot_id
    FROM sms_snapshot WHERE row_count > 0 GROUP BY channel
),
versions AS (
    SELECT r.*,
           lag(rate)              OVER w AS prev_rate,
           lag(valid_to)          OVER w AS prev_valid_to,
           lead(valid_from)       OVER w AS next_valid_from
    FROM sms_rate r
    WHERE withdrawn_at IS NULL
    WINDOW w AS (PARTITION BY channel, mcc_int, mnc_int ORDER BY valid_from)
),
transitions AS (
    SELECT v.channel, v.mcc_int, v.mnc_int, v.mcc, v.mnc, v.country, v.network,
           CASE WHEN v.rate > v.prev_rate THEN 'increase'
                WHEN v.rate < v.prev_rate THEN 'decrease' END AS change_type,
           v.prev_rate AS old_rate, v.rate AS new_rate,
           v.valid_from AS changed_at, v.first_snapshot_id AS snapshot_id
    FROM versions v JOIN baseline b USING (channel)
    WHERE v.prev_valid_to IS NOT NULL AND v.prev_valid_to = v.valid_from
      AND v.first_snapshot_id <> b.baseline_snapshot_id
),
added AS (
    SELECT v.channel, v.mcc_int, v.mnc_int, v.mcc, v.mnc, v.country, v.network, 'new' AS change_type,
           NULL AS old_rate, v.rate AS new_rate,
           v.valid_from AS changed_at, v.first_snapshot_id AS snapshot_id
    FROM versions v JOIN baseline b USING (channel)
    WHERE (v.prev_valid_to IS NULL OR v.prev_valid_to <> v.valid_from)
      AND v.first_snapshot_id <> b.baseline_snapshot_id
),
removed AS (
    SELECT v.channel, v.mcc_int, v.mnc_int, v.mcc, v.mnc, v.country, v.network, 'removed' AS change_type,
           v.rate AS old_rate, NULL AS new_rate,
           v.valid_to AS changed_at, v.closed_snapshot_id AS snapshot_id
    FROM versions v
    WHERE v.valid_to IS NOT NULL
      AND (v.next_valid_from IS NULL OR v.next_valid_from <> v.valid_to)
),
all_changes AS (
    SELECT * FROM transitions WHERE change_type IS NOT NULL
    UNION ALL SELECT * FROM added
    UNION ALL SELECT * FROM removed
)
-- change_id hashes the integers: the same id as before MCC/MNC became text
SELECT md5(concat_ws('|', channel, mcc_int, mnc_int, change_type,
                     strftime(changed_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%f'),
                     snapshot_id)) AS change_id,
       channel, mcc, mnc, country, network, change_type,
       CAST(old_rate AS DECIMAL(18, 8)) AS old_rate,
       CAST(new_rate AS DECIMAL(18, 8)) AS new_rate,
       CAST(new_rate - old_rate AS DECIMAL(18, 8)) AS rate_change,
       CAST(exact_pct_change(CAST(old_rate AS DECIMAL(38, 8)), CAST(new_rate AS DECIMAL(38, 8)))
            AS DECIMAL(12, 4)) AS rate_change_pct,
       changed_at,
       snapshot_id,
       mcc_int, mnc_int
FROM all_changes;
COMMENT ON VIEW sms_rate_change IS 'One row per SMS rate change between consecutive snapshots of a channel; the channel''s first non-empty snapshot is the baseline and yields none. Unreported: no report_change row (kind sms).';
COMMENT ON COLUMN sms_rate_change.change_id IS 'Stable id of the change (md5 of channel, mcc_int, mnc_int, type, time, snapshot); report_change.change_id refers to it. Key.';
COMMENT ON COLUMN sms_rate_change.channel IS 'SMS channel ''username:id''.';
COMMENT ON COLUMN sms_rate_change.mcc IS 'Mobile country code as text, 3 digits.';
COMMENT ON COLUMN sms_rate_change.mnc IS 'Mobile network code as text as published.';
COMMENT ON COLUMN sms_rate_change.country IS 'Country from mcc_mnc; NULL for an unknown network.';
COMMENT ON COLUMN sms_rate_change.network IS 'Network name from mcc_mnc; NULL for an unknown network.';
COMMENT ON COLUMN sms_rate_change.change_type IS 'new | removed | increase | decrease.';
COMMENT ON COLUMN sms_rate_change.old_rate IS 'Price per message before, exact; NULL for new.';
COMMENT ON COLUMN sms_rate_change.new_rate IS 'Price per message after, exact; NULL for removed.';
COMMENT ON COLUMN sms_rate_change.rate_change IS 'new_rate - old_rate, exact; NULL unless both exist.';
COMMENT ON COLUMN sms_rate_change.rate_change_pct IS 'Change in % of old_rate, 4 decimals, rounded half up; NULL when old_rate is NULL or 0.';
COMMENT ON COLUMN sms_rate_change.changed_at IS 'When the change took effect (UTC): the fetch that saw it.';
COMMENT ON COLUMN sms_rate_change.snapshot_id IS 'The sms_snapshot that brought the change.';
COMMENT ON COLUMN sms_rate_change.mcc_int IS 'Mobile country code as the API gives it (integer).';
COMMENT ON COLUMN sms_rate_change.mnc_int IS 'Mobile network code as the API gives it (integer).';
