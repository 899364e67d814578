-- Reconciliation with the carrier (docs/cdr.md#reconciliation). Re-created on every migration.
-- Tolerances come from reconcile_setting (the [reconcile] settings, one row).

-- One row per call either side billed. Our side: the switch's billable calls (cdr_call) with
-- their costs (cdr_cost); theirs: carrier_call. Two rows are one call when the number is the
-- same and the starts differ by at most match_tolerance_s; each call pairs at most once (a
-- pair is each side's closest candidate, ties to the lower call id). A call, on either side,
-- is its call_id on its call_day (an id may come back on another day: another call).
-- reconcile_calls(first_day, last_day): the rows of those UTC days, reading the calls of those
-- days and one either side only (a pair's starts are at most match_tolerance_s <= 1 h apart,
-- so every candidate of a call of those days, and every candidate of those candidates that
-- could outrank it, is there): the same rows as reconcile_call's of those days, at a cost
-- that grows with the days asked for, not with the history (docs/cdr.md#reconciliation).
CREATE OR REPLACE MACRO reconcile_calls(first_day, last_day) AS TABLE
WITH costs AS (
    SELECT * FROM cdr_cost WHERE call_day BETWEEN first_day - 1 AND last_day + 1
),
ours AS (
    SELECT c.call_id, c.started_at, c.call_day, c.number, c.tech_prefix, c.billsec,
           k.rated_on, k.matched_prefix, k.destination, k.price, k.cost, k.rate_valid_from
    FROM cdr_call c LEFT JOIN costs k USING (call_day, call_id)
    WHERE c.billable AND c.call_day BETWEEN first_day - 1 AND last_day + 1
),
-- their_deck: the deck the carrier's route is priced on, by the one alias rule
-- (voice_deck_aliases(), macros/050_voice_deck.sql), as our side's rated_on is: a call billed
-- on an alias (021001, the deck current holds) reads current's versions
theirs AS (
    SELECT t.*, coalesce(a.same_as, t.tech_prefix) AS their_deck
    FROM carrier_call t LEFT JOIN voice_deck_aliases() a ON a.tech_prefix = t.tech_prefix
    WHERE t.call_day BETWEEN first_day - 1 AND last_day + 1
),
candidate AS (
    SELECT o.call_day AS our_day, o.call_id AS our_id,
           t.call_day AS their_day, t.call_id AS their_id,
           abs(date_diff('second', o.started_at, t.started_at)) AS gap
    FROM ours o
    JOIN theirs t ON t.number = o.number
    WHERE abs(date_diff('second', o.started_at, t.started_at))
          <= (SELECT match_tolerance_s FROM reconcile_setting)
),
pair AS (
    SELECT our_day, our_id, their_day, their_id FROM candidate
    QUALIFY row_number() OVER (
                PARTITION BY our_day, our_id ORDER BY gap, their_id, their_day) = 1
        AND row_number() OVER (
                PARTITION BY their_day, their_id ORDER BY gap, our_id, our_day) = 1
),
joined AS (
    SELECT o.*, t.call_id AS their_call_id, t.started_at AS their_started_at,
           t.their_deck, t.number AS their_number,
           t.destination AS their_destination, t.prefix AS their_prefix,
           t.seconds AS their_seconds, t.rate AS their_rate, t.cost AS their_cost,
           t.call_day AS their_call_day
    FROM (ours o LEFT JOIN pair p ON p.our_day = o.call_day AND p.our_id = o.call_id)
    FULL JOIN theirs t ON t.call_day = p.their_day AND t.call_id = p.their_id
)
SELECT coalesce(call_day, their_call_day) AS call_day,
       CASE WHEN call_id IS NULL THEN 'missing_ours'
            WHEN their_call_id IS NULL THEN 'missing_theirs'
            WHEN price IS NULL OR their_rate <> price THEN 'price_differs'
            WHEN their_seconds <> billsec THEN 'duration_differs'
            WHEN their_cost <> cost THEN 'price_differs'
            ELSE 'exact' END AS class,
       call_id AS our_call_id,
       their_call_id,
       coalesce(started_at, their_started_at) AS started_at,
       coalesce(number, their_number) AS number,
       coalesce(rated_on, their_deck) AS tech_prefix,
       coalesce(destination, their_destination) AS destination,
       coalesce(matched_prefix, their_prefix) AS prefix,
       billsec AS our_seconds,
       their_seconds,
       coalesce(their_seconds, 0) - coalesce(billsec, 0) AS seconds_difference,
       CAST(cost AS DECIMAL(18, 8)) AS our_cost,
       CAST(their_cost AS DECIMAL(18, 8)) AS their_cost,
       CAST(coalesce(their_cost, 0) - coalesce(cost, 0) AS DECIMAL(18, 8)) AS cost_difference,
       CAST(price AS DECIMAL(18, 8)) AS our_rate,
       rate_valid_from AS our_rate_valid_from,
       CAST(their_rate AS DECIMAL(18, 8)) AS their_rate,
       CASE WHEN their_rate IS NOT NULL AND their_rate IS DISTINCT FROM price THEN (
           SELECT arg_min(v.valid_from,
                          abs(date_diff('second', v.valid_from,
                                        coalesce(joined.started_at, joined.their_started_at))))
           FROM voice_rate v
           WHERE v.tech_prefix = coalesce(joined.rated_on, joined.their_deck)
             AND v.prefix = coalesce(joined.their_prefix, joined.matched_prefix)
             AND v.price = joined.their_rate
             AND v.withdrawn_at IS NULL) END AS their_rate_valid_from
FROM joined
WHERE coalesce(call_day, their_call_day) BETWEEN first_day AND last_day;

-- Every day: what analysts query (a day's or a month's rows read faster from reconcile_calls).
CREATE OR REPLACE VIEW reconcile_call AS
SELECT * FROM reconcile_calls(DATE '0001-01-02', DATE '9999-12-30');
COMMENT ON MACRO TABLE reconcile_calls IS 'reconcile_calls(first_day, last_day): reconcile_call''s rows of the UTC days first_day..last_day (DATE), reading only those days and one either side: as fast after a year of calls as after a day (the view pairs every call first).';
COMMENT ON VIEW reconcile_call IS 'Our calls against the carrier''s, one row per call either side billed: exact, duration_differs, price_differs (a rate other than the deck in force), missing_ours (billed, not in our CDRs) or missing_theirs (in our CDRs, not billed). Matched on number and start within reconcile_setting.match_tolerance_s.';
COMMENT ON COLUMN reconcile_call.call_day IS 'UTC day of the call (ours, else the carrier''s).';
COMMENT ON COLUMN reconcile_call.class IS 'exact | duration_differs | price_differs | missing_ours | missing_theirs. A rate difference wins over a duration difference.';
COMMENT ON COLUMN reconcile_call.our_call_id IS 'cdr_call.call_id (NULL: missing_ours).';
COMMENT ON COLUMN reconcile_call.their_call_id IS 'carrier_call.call_id (NULL: missing_theirs).';
COMMENT ON COLUMN reconcile_call.started_at IS 'Start of the call (ours, else the carrier''s), UTC.';
COMMENT ON COLUMN reconcile_call.number IS 'The called number, digits.';
COMMENT ON COLUMN reconcile_call.tech_prefix IS 'The deck the call is priced on: cdr_cost.rated_on, else the deck of the carrier''s tech prefix (an alias, voice_deck_aliases(): the deck it shares).';
COMMENT ON COLUMN reconcile_call.destination IS 'Destination (ours, else the carrier''s).';
COMMENT ON COLUMN reconcile_call.prefix IS 'The prefix that priced it (ours, else the carrier''s).';
COMMENT ON COLUMN reconcile_call.our_seconds IS 'Talk seconds our switch logged (cdr_call.billsec).';
COMMENT ON COLUMN reconcile_call.their_seconds IS 'Seconds the carrier measured.';
COMMENT ON COLUMN reconcile_call.seconds_difference IS 'their_seconds - our_seconds (a missing side counts 0).';
COMMENT ON COLUMN reconcile_call.our_cost IS 'What the call costs at the deck in force (cdr_cost.cost), exact.';
COMMENT ON COLUMN reconcile_call.their_cost IS 'What the carrier charged, exact.';
COMMENT ON COLUMN reconcile_call.cost_difference IS 'their_cost - our_cost, exact (a missing side counts 0): > 0 the carrier charged more.';
COMMENT ON COLUMN reconcile_call.our_rate IS 'Price per minute of the deck version in force at the call''s start (cdr_cost.price).';
COMMENT ON COLUMN reconcile_call.our_rate_valid_from IS 'valid_from of that version.';
COMMENT ON COLUMN reconcile_call.their_rate IS 'Price per minute the carrier applied.';
COMMENT ON COLUMN reconcile_call.their_rate_valid_from IS 'When their rate differs from ours: valid_from of the version of the same deck and prefix with their price (the one nearest the call), e.g. an increase billed before its effective date; NULL when no version had it.';

-- Per UTC day with balance data or costed calls: what the balance lost (top-ups apart, as
-- balance_daily counts them) against what our calls cost at the decks in force.
--   * A day the balance was measured on (a snapshot with an earlier one to compare with) and no
--     costed call: own cost 0, so any spend is beyond tolerance (the carrier debited money our
--     switch made no billable call for). Without it, such a day had no row, and the email's
--     "all N day(s) are within" skipped it.
--   * A day with costed calls and no balance measured: spend, difference and within_tolerance
--     are NULL ("no balance data"): nothing to judge, but not silently absent.
-- The first snapshot of an account measures nothing (there is nothing before it to compare
-- with), so a day with only that snapshot is not balance data.
CREATE OR REPLACE VIEW reconcile_daily AS
WITH own AS (
    SELECT call_day AS day, count(*) AS calls, sum(cost) AS own_cost
    FROM cdr_cost GROUP BY call_day
),
measured AS (
    SELECT DISTINCT email, CAST(fetched_at AT TIME ZONE 'UTC' AS DATE) AS day
    FROM (SELECT email, fetched_at,
                 lag(fetched_at) OVER (PARTITION BY email ORDER BY fetched_at) AS prev_at
          FROM balance_snapshot)
    WHERE prev_at IS NOT NULL
),
spend AS (
    SELECT day, sum(balance_spend) AS spend, sum(balance_topups) AS topups
    FROM balance_daily JOIN measured USING (email, day)
    GROUP BY day
),
compared AS (
    SELECT coalesce(s.day, o.day) AS day, s.spend, s.topups,
           coalesce(o.calls, 0) AS calls, coalesce(o.own_cost, 0) AS own_cost
    FROM spend s FULL JOIN own o USING (day)
)
SELECT c.day,
       CAST(c.spend AS DECIMAL(18, 8)) AS spend,
       CAST(c.topups AS DECIMAL(18, 8)) AS topups,
       c.calls,
       CAST(c.own_cost AS DECIMAL(18, 8)) AS own_cost,
       CAST(c.spend - c.own_cost AS DECIMAL(18, 8)) AS difference,
       exact_pct_change(c.own_cost, c.spend) AS pct,
       r.tolerance_pct,
       abs(c.spend - c.own_cost) * 100 <= c.own_cost * r.tolerance_pct AS within_tolerance
FROM compared c CROSS JOIN reconcile_setting r;
COMMENT ON VIEW reconcile_daily IS 'Balance spend against our costed calls per UTC day with balance data or costed calls: the difference in money and percent, and whether it is within reconcile_setting.tolerance_pct. A day with spend and no costed call has own_cost 0 (beyond tolerance unless nothing was spent); a day with costed calls and no balance data has spend, difference and within_tolerance NULL.';
COMMENT ON COLUMN reconcile_daily.day IS 'UTC day. Key.';
COMMENT ON COLUMN reconcile_daily.spend IS 'What the voice balance lost that day, top-ups apart (balance_daily.balance_spend, all accounts), exact. NULL: no balance data that day (no snapshot with an earlier one to compare with).';
COMMENT ON COLUMN reconcile_daily.topups IS 'The day''s top-ups (balance_daily.balance_topups), exact; not spend. NULL: no balance data.';
COMMENT ON COLUMN reconcile_daily.calls IS 'Costed calls of the day (cdr_cost); 0 when none.';
COMMENT ON COLUMN reconcile_daily.own_cost IS 'Sum of cdr_cost.cost of the day: the calls at the decks in force, exact; 0 when no call was costed.';
COMMENT ON COLUMN reconcile_daily.difference IS 'spend - own_cost, exact: > 0 the balance lost more than the calls cost. NULL: no balance data.';
COMMENT ON COLUMN reconcile_daily.pct IS 'difference as a percentage of own_cost, exact, 4 decimals (NULL when own_cost is 0 or there is no balance data).';
COMMENT ON COLUMN reconcile_daily.tolerance_pct IS 'The tolerance applied (reconcile_setting.tolerance_pct).';
COMMENT ON COLUMN reconcile_daily.within_tolerance IS 'true when |difference| <= own_cost x tolerance_pct / 100 (exact): with no costed call, only when nothing was spent. NULL: no balance data, nothing to judge.';
