-- Balance views. Re-created on every migration run (CREATE OR REPLACE).
-- A movement between two consecutive snapshots counts on the UTC day of the later one:
-- a decrease is spend, an increase a top-up (a top-up and spend inside the same interval
-- net out: the API only shows the balance). So closing = opening + topups - spend per day.

CREATE OR REPLACE VIEW balance_daily AS
WITH steps AS (
    SELECT email, fetched_at,
           CAST(fetched_at AT TIME ZONE 'UTC' AS DATE) AS day,
           balance, sms_balance,
           lag(balance)     OVER w AS prev_balance,
           lag(sms_balance) OVER w AS prev_sms_balance
    FROM balance_snapshot
    WINDOW w AS (PARTITION BY email ORDER BY fetched_at)
)
SELECT day, email,
       CAST(arg_min(coalesce(prev_balance, balance), fetched_at) AS DECIMAL(18, 8))
           AS balance_opening,
       CAST(arg_max(balance, fetched_at) AS DECIMAL(18, 8)) AS balance_closing,
       CAST(coalesce(sum(prev_balance - balance) FILTER (WHERE balance < prev_balance), 0)
            AS DECIMAL(18, 8)) AS balance_spend,
       CAST(coalesce(sum(balance - prev_balance) FILTER (WHERE balance > prev_balance), 0)
            AS DECIMAL(18, 8)) AS balance_topups,
       CAST(arg_min(coalesce(prev_sms_balance, sms_balance), fetched_at) AS DECIMAL(18, 8))
           AS sms_balance_opening,
       CAST(arg_max(sms_balance, fetched_at) AS DECIMAL(18, 8)) AS sms_balance_closing,
       CAST(coalesce(sum(prev_sms_balance - sms_balance)
                         FILTER (WHERE sms_balance < prev_sms_balance), 0)
            AS DECIMAL(18, 8)) AS sms_balance_spend,
       CAST(coalesce(sum(sms_balance - prev_sms_balance)
                         FILTER (WHERE sms_balance > prev_sms_balance), 0)
            AS DECIMAL(18, 8)) AS sms_balance_topups,
       count(*) AS snapshots
FROM steps
GROUP BY day, email;
COMMENT ON VIEW balance_daily IS 'Balance per account and UTC day: opening, closing, spend and top-ups (account currency, exact). A movement between two snapshots counts on the day of the later one; a top-up and spend in one interval net out.';
COMMENT ON COLUMN balance_daily.day IS 'UTC calendar day. Key with email.';
COMMENT ON COLUMN balance_daily.email IS 'The account.';
COMMENT ON COLUMN balance_daily.balance_opening IS 'Voice balance at the start of the day (the last snapshot before it, else the first of the day), exact.';
COMMENT ON COLUMN balance_daily.balance_closing IS 'Voice balance at the day''s last snapshot, exact.';
COMMENT ON COLUMN balance_daily.balance_spend IS 'Sum of the day''s decreases of the voice balance, exact (>= 0).';
COMMENT ON COLUMN balance_daily.balance_topups IS 'Sum of the day''s increases of the voice balance, exact (>= 0). closing = opening + topups - spend.';
COMMENT ON COLUMN balance_daily.sms_balance_opening IS 'SMS balance at the start of the day, exact.';
COMMENT ON COLUMN balance_daily.sms_balance_closing IS 'SMS balance at the day''s last snapshot, exact.';
COMMENT ON COLUMN balance_daily.sms_balance_spend IS 'Sum of the day''s decreases of the SMS balance, exact.';
COMMENT ON COLUMN balance_daily.sms_balance_topups IS 'Sum of the day''s increases of the SMS balance, exact.';
COMMENT ON COLUMN balance_daily.snapshots IS 'balance_snapshot rows on that day.';

-- Runway at the latest snapshot. The window is the intervals between consecutive snapshots
-- that start at most 7 days before the latest one; average daily spend = spend in the window
-- / the time it covers (exactly 7 days once there is a week of history, less before).
-- Exact: scaled integers and div_round_half_up, never DOUBLE. days_left = balance / average
-- daily spend computed from the unrounded fraction, 2 decimals; 0 when the balance is <= 0,
-- NULL when there was no spend in the window.
-- A window shorter than a day says nothing about a daily rate (minutes of spend extrapolated
-- to a day): average and days_left are then NULL and runway_note says 'not enough history'.
CREATE OR REPLACE VIEW balance_runway AS
WITH latest AS (
    SELECT email, max(fetched_at) AS as_of FROM balance_snapshot GROUP BY email
),
steps AS (
    SELECT email, fetched_at, balance, sms_balance,
           lag(fetched_at)  OVER w AS prev_at,
           lag(balance)     OVER w AS prev_balance,
           lag(sms_balance) OVER w AS prev_sms_balance
    FROM balance_snapshot
    WINDOW w AS (PARTITION BY email ORDER BY fetched_at)
),
window_totals AS (
    SELECT s.email, min(s.prev_at) AS window_start,
           CAST(coalesce(sum(s.prev_balance - s.balance)
                             FILTER (WHERE s.balance < s.prev_balance), 0)
                AS DECIMAL(18, 8)) AS spend,
           CAST(coalesce(sum(s.prev_sms_balance - s.sms_balance)
                             FILTER (WHERE s.sms_balance < s.prev_sms_balance), 0)
                AS DECIMAL(18, 8)) AS sms_spend
    FROM steps s JOIN latest l USING (email)
    WHERE s.prev_at IS NOT NULL AND s.prev_at >= l.as_of - INTERVAL 7 DAY
    GROUP BY s.email
),
figures AS (
    SELECT l.email, l.as_of, b.balance, b.sms_balance, b.temporary_credit,
           t.window_start, t.spend, t.sms_spend,
           epoch_us(l.as_of) - epoch_us(t.window_start) AS covered_us,
           coalesce(epoch_us(l.as_of) - epoch_us(t.window_start) >= 86400000000, false)
               AS enough_history,
           CAST(CAST(b.balance AS DECIMAL(38, 8)) * 100000000 AS HUGEINT) AS balance_units,
           CAST(CAST(b.sms_balance AS DECIMAL(38, 8)) * 100000000 AS HUGEINT) AS sms_balance_units,
           CAST(CAST(t.spend AS DECIMAL(38, 8)) * 100000000 AS HUGEINT) AS spend_units,
           CAST(CAST(t.sms_spend AS DECIMAL(38, 8)) * 100000000 AS HUGEINT) AS sms_spend_units
    FROM latest l
    JOIN balance_snapshot b ON b.email = l.email AND b.fetched_at = l.as_of
    LEFT JOIN window_totals t ON t.email = l.email
)
SELECT email, as_of, balance, sms_balance, temporary_credit, window_start,
       CAST(CAST(div_round_half_up(CAST(covered_us AS HUGEINT) * 10000, 86400000000)
                 AS DECIMAL(18, 0)) * CAST(0.0001 AS DECIMAL(5, 4)) AS DECIMAL(12, 4))
           AS window_days,
       spend AS spend_in_window,
       CASE WHEN enough_history THEN
           CAST(CAST(div_round_half_up(spend_units * 86400000000, covered_us) AS DECIMAL(18, 0))
                * CAST(0.00000001 AS DECIMAL(9, 8)) AS DECIMAL(18, 8)) END AS avg_daily_spend,
       CASE WHEN NOT enough_history OR spend_units IS NULL OR spend_units = 0 THEN NULL
            WHEN balance_units <= 0 THEN CAST(0 AS DECIMAL(12, 2))
            ELSE CAST(CAST(div_round_half_up(balance_units * covered_us * 100,
                                             spend_units * 86400000000) AS DECIMAL(18, 0))
                      * CAST(0.01 AS DECIMAL(3, 2)) AS DECIMAL(12, 2)) END AS days_left,
       sms_spend AS sms_spend_in_window,
       CASE WHEN enough_history THEN
           CAST(CAST(div_round_half_up(sms_spend_units * 86400000000, covered_us)
                     AS DECIMAL(18, 0)) * CAST(0.00000001 AS DECIMAL(9, 8)) AS DECIMAL(18, 8))
           END AS sms_avg_daily_spend,
       CASE WHEN NOT enough_history OR sms_spend_units IS NULL OR sms_spend_units = 0 THEN NULL
            WHEN sms_balance_units <= 0 THEN CAST(0 AS DECIMAL(12, 2))
            ELSE CAST(CAST(div_round_half_up(sms_balance_units * covered_us * 100,
                                             sms_spend_units * 86400000000) AS DECIMAL(18, 0))
                      * CAST(0.01 AS DECIMAL(3, 2)) AS DECIMAL(12, 2)) END AS sms_days_left,
       CASE WHEN NOT enough_history THEN 'not enough history' END AS runway_note
FROM figures;
COMMENT ON VIEW balance_runway IS 'Runway per account at its latest balance snapshot: average daily spend over the last 7 days (or the history there is) and the days the balance lasts at that pace. Exact, never DOUBLE.';
COMMENT ON COLUMN balance_runway.email IS 'The account.';
COMMENT ON COLUMN balance_runway.as_of IS 'The latest balance snapshot (UTC).';
COMMENT ON COLUMN balance_runway.balance IS 'Voice balance at as_of, exact.';
COMMENT ON COLUMN balance_runway.sms_balance IS 'SMS balance at as_of, exact.';
COMMENT ON COLUMN balance_runway.temporary_credit IS 'Temporary credit at as_of, exact.';
COMMENT ON COLUMN balance_runway.window_start IS 'Start of the spend window (UTC): the earliest snapshot at most 7 days before as_of; NULL with one snapshot only.';
COMMENT ON COLUMN balance_runway.window_days IS 'Length of the window in days, 4 decimals.';
COMMENT ON COLUMN balance_runway.spend_in_window IS 'Voice spend in the window (sum of decreases), exact; NULL with one snapshot only.';
COMMENT ON COLUMN balance_runway.avg_daily_spend IS 'spend_in_window per day, 8 decimals, half up; NULL when the window is shorter than a day.';
COMMENT ON COLUMN balance_runway.days_left IS 'balance / avg_daily_spend, 2 decimals; 0 when the balance is <= 0; NULL when nothing was spent or the window is shorter than a day.';
COMMENT ON COLUMN balance_runway.sms_spend_in_window IS 'SMS spend in the window, exact.';
COMMENT ON COLUMN balance_runway.sms_avg_daily_spend IS 'SMS spend per day, 8 decimals; NULL when the window is shorter than a day.';
COMMENT ON COLUMN balance_runway.sms_days_left IS 'sms_balance / sms_avg_daily_spend, 2 decimals; 0 when <= 0; NULL as days_left.';
COMMENT ON COLUMN balance_runway.runway_note IS '''not enough history'' when the window is shorter than a day; else NULL.';
