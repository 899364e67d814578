-- Reconciliation with the carrier (docs/cdr.md#reconciliation). Re-created on every migration.
-- Tolerances come from reconcile_setting (the [reconcile] settings, one row).

-- One row per call either side billed. Our side: the switch's billable calls (cdr_call) with
-- their costs (cdr_cost); theirs: carrier_call. A call, on either side, is its call_id on its
-- call_day (an id may come back on another day: another call).
--
-- Pairing. Our call and theirs are candidates when the number is the same and the starts
-- differ by at most match_tolerance_s. Each call pairs at most once: of the ways to pair, the
-- one with the most pairs, then the least total of the pairs' start differences (ties: the
-- earlier calls pair, by start then call id). Pairing a call only with a candidate whose
-- closest it was ("mutual nearest") lost pairs: o1 10:00:00 and o2 10:00:02 against t1
-- 10:00:01 and t2 10:00:03, o2's closest, t1, was o1's, so o2 and t2 were two disputes.
-- How: two calls each the other's only candidate (nearly all) pair at once. The others: a
-- number's calls in start order, ours i, theirs j. Among the best pairings one keeps the order
-- on both sides (uncrossing two pairs lengthens neither beyond the longer, nor the total), so
-- the best pairing is a best common subsequence, by dynamic programming over our calls:
-- value(i, j), the best pairing of ours up to i with theirs up to j, a pair worth 2^40 less
-- its gap in seconds (one more pair outweighs any total of gaps). An our call's candidates
-- are a run of theirs, lo..hi, moving forward with i: row i needs only cells lo - 1..hi (the
-- rest repeats row i - 1, or its last cell). A component, a run of our calls whose candidates
-- overlap, pairs on its own; the recursion steps all components at once, one our call each,
-- as deep as the longest (a flood of calls to one number, each within the tolerance of the
-- next: about 0.2 ms a call), then walks back from each component's last cell to its pairs.
--
-- reconcile_calls(first_day, last_day): the rows of those UTC days, reading the calls of those
-- days and one either side only: the same rows as reconcile_call's of those days, at a cost
-- that grows with the days asked for, not with the history (docs/cdr.md#reconciliation),
-- unless a component runs through the whole day before or after them (calls to one number,
-- each within match_tolerance_s of the next, for 24 hours): the calls beyond could pair it
-- otherwise.
CREATE OR REPLACE MACRO reconcile_calls(first_day, last_day) AS TABLE
WITH RECURSIVE
-- slot: the start in steps longer than the tolerance (date_diff counts second boundaries, so
-- starts within it are less than tolerance + 1 s apart): a call's candidates are in its slot
-- or a next one, and the join reads those only, not every call to the number (a flood of
-- calls to one number compared each call with every other)
slot AS (SELECT 1000 * (match_tolerance_s + 2) AS ms FROM reconcile_setting),
costs AS (
    SELECT k.*, g.cost_decimals
    FROM cdr_cost k LEFT JOIN cdr_costing_log g USING (costing_run)
    WHERE k.call_day BETWEEN first_day - 1 AND last_day + 1
),
ours AS (
    SELECT c.call_id, c.started_at, c.call_day, c.number, c.tech_prefix, c.billsec,
           k.rated_on, k.matched_prefix, k.destination, k.price, k.cost, k.rate_valid_from,
           k.initial_seconds, k.increment_seconds, k.billed_seconds, k.cost_decimals,
           epoch_ms(c.started_at) // (SELECT ms FROM slot) AS slot
    FROM cdr_call c LEFT JOIN costs k USING (call_day, call_id)
    WHERE c.billable AND c.call_day BETWEEN first_day - 1 AND last_day + 1
),
-- their_deck: the deck the carrier's route is priced on, by the one alias rule
-- (voice_deck_aliases(), macros/050_voice_deck.sql), as our side's rated_on is: a call billed
-- on an alias (021001, the deck current holds) reads current's versions
theirs AS (
    SELECT t.*, coalesce(a.same_as, t.tech_prefix) AS their_deck,
           epoch_ms(t.started_at) // (SELECT ms FROM slot) AS slot
    FROM carrier_call t LEFT JOIN voice_deck_aliases() a ON a.tech_prefix = t.tech_prefix
    WHERE t.call_day BETWEEN first_day - 1 AND last_day + 1
),
-- the places the carrier writes its costs to: the most any cost of an export shows that day
-- (one cost may show fewer: 0.032700 shows 4); per export and whole day, so that the days
-- read here decide it as the view does
their_places AS (
    SELECT file_id, call_day, max(decimal_places(cost)) AS cost_places
    FROM theirs GROUP BY file_id, call_day
),
candidate AS MATERIALIZED (
    SELECT o.call_day AS our_day, o.call_id AS our_id, t.call_day AS their_day,
           t.call_id AS their_id, abs(date_diff('second', o.started_at, t.started_at)) AS gap
    FROM (SELECT *, slot + step AS near FROM ours, (VALUES (-1), (0), (1)) n(step)) o
    JOIN theirs t ON t.number = o.number AND t.slot = o.near
    WHERE abs(date_diff('second', o.started_at, t.started_at))
          <= (SELECT match_tolerance_s FROM reconcile_setting)
),
-- calls with more than one candidate; a pair of calls each the other's only candidate (nearly
-- every call) pairs as it is
ours_shared AS (
    SELECT our_day, our_id FROM candidate GROUP BY our_day, our_id HAVING count(*) > 1
),
theirs_shared AS (
    SELECT their_day, their_id FROM candidate GROUP BY their_day, their_id HAVING count(*) > 1
),
-- the candidates of those calls; i, j: the number's calls among them, ours and theirs, in
-- start order (then id, day). No call starts between two candidates of a call without being
-- one, so each call's candidates are a run of the other side's
shared AS MATERIALIZED (
    SELECT c.*, o.number,
           dense_rank() OVER (PARTITION BY o.number
                              ORDER BY o.started_at, o.call_id, o.call_day) AS i,
           dense_rank() OVER (PARTITION BY o.number
                              ORDER BY t.started_at, t.call_id, t.call_day) AS j
    FROM candidate c
    JOIN ours o ON o.call_day = c.our_day AND o.call_id = c.our_id
    JOIN theirs t ON t.call_day = c.their_day AND t.call_id = c.their_id
    WHERE (c.our_day, c.our_id) IN (SELECT * FROM ours_shared)
       OR (c.their_day, c.their_id) IN (SELECT * FROM theirs_shared)
),
-- our call i's candidates are theirs lo..hi. A component starts at a call sharing none with
-- the call before it; part: the component's number (unique across numbers); prev_hi: hi of
-- the row before in the component (the first row's: lo - 1)
component AS MATERIALIZED (
    SELECT number, i, lo, hi, dense_rank() OVER (ORDER BY number, run) AS part,
           CASE WHEN starts THEN lo - 1 ELSE before_hi END AS prev_hi
    FROM (SELECT *, sum(CAST(starts AS INTEGER)) OVER (PARTITION BY number ORDER BY i) AS run
          FROM (SELECT *, lag(hi) OVER (PARTITION BY number ORDER BY i) AS before_hi,
                       coalesce(lo > lag(hi) OVER (PARTITION BY number ORDER BY i), true)
                           AS starts
                FROM (SELECT number, i, min(j) AS lo, max(j) AS hi
                      FROM shared GROUP BY number, i)))
),
-- row i's cells: each candidate j (weight: what pairing it adds) and lo - 1 (i paired with
-- none of its candidates). A pair adds 2^40 less its gap in seconds: one more pair outweighs
-- any total of gaps (3,600 s at most each)
cell AS (
    SELECT part, i, j, hi, prev_hi, 1099511627776 - gap AS weight
    FROM shared JOIN component USING (number, i)
    UNION ALL
    SELECT part, i, lo - 1, hi, prev_hi, NULL FROM component
),
-- value: the best pairing of ours up to i with theirs up to j; before: value at j - 1;
-- pick: 2k + 1 when that pairing pairs (i, k), 2k when it leaves i unpaired, k <= j the first
-- cell with that value (the max of a struct: the best score, then the least j). A
-- component starts from a row of one cell (lo - 1) worth 0.
best (part, i, j, hi, prev_hi, value, before, pick) AS MATERIALIZED (
    SELECT part, min(i) - 1, min(lo) - 1, min(lo) - 1, CAST(NULL AS BIGINT),
           CAST(0 AS BIGINT), CAST(0 AS BIGINT), CAST(NULL AS BIGINT)
    FROM component GROUP BY part
    UNION ALL
    SELECT part, i, j, hi, prev_hi, upto.score, before.score, 2 * -upto.minus_j + upto.paired
    FROM (
        SELECT *,
               max(choice) OVER (PARTITION BY part ORDER BY j) AS upto,
               max(choice) OVER (PARTITION BY part ORDER BY j
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before
        FROM (
            SELECT part, i, j, hi, prev_hi,
                   CASE WHEN taken > kept
                        THEN {'score': taken, 'minus_j': -j, 'paired': 1}
                        ELSE {'score': kept, 'minus_j': -j, 'paired': 0} END
                       AS choice
            FROM (
                -- p: row i - 1 at j (at its hi, past it): kept is row i - 1's value at j;
                -- taken pairs (i, j) onto its value at j - 1
                SELECT c.*, p.value AS kept,
                       CASE WHEN c.j <= c.prev_hi THEN p.before ELSE p.value END + c.weight
                           AS taken
                FROM cell c
                JOIN best p ON p.part = c.part AND p.i = c.i - 1
                           AND p.j = least(c.j, c.prev_hi))))
),
-- each cell's pick, for the walk back
choice AS MATERIALIZED (
    SELECT part, i, j, prev_hi, pick FROM best WHERE pick IS NOT NULL
),
-- the walk back from each component's last cell: at row i, cell j (at most row i's hi)
walk (part, number, i, j, paired_i, paired_j) AS (
    SELECT part, any_value(number), max(i), max(hi), CAST(NULL AS BIGINT),
           CAST(NULL AS BIGINT)
    FROM component GROUP BY part
    UNION ALL
    SELECT w.part, w.number, w.i - 1, least(c.pick // 2 - c.pick % 2, c.prev_hi),
           w.i, CASE WHEN c.pick % 2 = 1 THEN c.pick // 2 END
    FROM walk w JOIN choice c ON c.part = w.part AND c.i = w.i AND c.j = w.j
),
pair AS (
    SELECT our_day, our_id, their_day, their_id FROM candidate
    WHERE (our_day, our_id) NOT IN (SELECT * FROM ours_shared)
      AND (their_day, their_id) NOT IN (SELECT * FROM theirs_shared)
    UNION ALL
    SELECT s.our_day, s.our_id, s.their_day, s.their_id
    FROM walk w JOIN shared s ON s.number = w.number AND s.i = w.paired_i AND s.j = w.paired_j
),
joined AS (
    SELECT o.*, t.call_id AS their_call_id, t.started_at AS their_started_at,
           t.their_deck, t.number AS their_number,
           t.destination AS their_destination, t.prefix AS their_prefix,
           t.seconds AS their_seconds, t.billed_seconds AS their_billed_seconds,
           t.rate AS their_rate, t.cost AS their_cost, q.cost_places,
           t.call_day AS their_call_day
    FROM (ours o LEFT JOIN pair p ON p.our_day = o.call_day AND p.our_id = o.call_id)
    FULL JOIN theirs t ON t.call_day = p.their_day AND t.call_id = p.their_id
    LEFT JOIN their_places q ON q.file_id = t.file_id AND q.call_day = t.call_day
)
SELECT coalesce(call_day, their_call_day) AS call_day,
       CASE WHEN call_id IS NULL THEN 'missing_ours'
            WHEN their_call_id IS NULL THEN 'missing_theirs'
            WHEN price IS NULL OR their_rate <> price THEN 'price_differs'
            WHEN their_seconds <> billsec THEN 'duration_differs'
            WHEN their_billed_seconds <> billed_seconds THEN 'billing_differs'
            WHEN NOT cost_within_rounding(
                     their_cost, their_rate, their_billed_seconds,
                     least(cost_places, coalesce(cost_decimals, 8))) THEN 'cost_differs'
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
       billed_seconds AS our_billed_seconds,
       their_billed_seconds,
       initial_seconds || '/' || increment_seconds AS our_increments,
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
COMMENT ON MACRO TABLE reconcile_calls IS 'reconcile_calls(first_day, last_day): reconcile_call''s rows of the UTC days first_day..last_day (DATE), reading only those days and one either side: as fast after a year of calls as after a day (the view pairs every call first). The same rows unless calls to one number, each within match_tolerance_s of the next, run through the whole day before or after.';
COMMENT ON VIEW reconcile_call IS 'Our calls against the carrier''s, one row per call either side billed: exact, price_differs (a rate other than the deck in force), duration_differs (other seconds), billing_differs (other billed seconds: increments other than the deck''s), cost_differs (a cost beyond rounding), missing_ours (billed, not in our CDRs) or missing_theirs (in our CDRs, not billed). Paired on number and start within reconcile_setting.match_tolerance_s: as many pairs as possible, then the closest.';
COMMENT ON COLUMN reconcile_call.call_day IS 'UTC day of the call (ours, else the carrier''s).';
COMMENT ON COLUMN reconcile_call.class IS 'exact | price_differs | duration_differs | billing_differs | cost_differs | missing_ours | missing_theirs: the first that differs, in that order (a rate, then seconds, then billed seconds, then the cost). cost_differs: same rate and billed seconds, but the carrier''s cost is not rate x billed seconds / 60 rounded at the coarser of its places and ours (report.cost_decimals); within that, exact.';
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
COMMENT ON COLUMN reconcile_call.our_billed_seconds IS 'Seconds our deck bills for our_seconds under its increments (cdr_cost.billed_seconds).';
COMMENT ON COLUMN reconcile_call.their_billed_seconds IS 'Seconds the carrier billed (carrier_call.billed_seconds).';
COMMENT ON COLUMN reconcile_call.our_increments IS 'The billing increments of our deck version, initial/increment seconds (60/60: the first 60 s, then 60 s steps).';
COMMENT ON COLUMN reconcile_call.our_cost IS 'What the call costs at the deck in force (cdr_cost.cost), exact.';
COMMENT ON COLUMN reconcile_call.their_cost IS 'What the carrier charged, exact.';
COMMENT ON COLUMN reconcile_call.cost_difference IS 'their_cost - our_cost, exact (a missing side counts 0): > 0 the carrier charged more. On an exact row, what rounding at different places leaves.';
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
