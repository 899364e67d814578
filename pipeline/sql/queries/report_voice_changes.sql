-- Voice price changes (voice_rate_change) with their longest-prefix effect and the cost of a
-- reference call before and after. Used by pipeline/analytics/diff.py:voice_changes().
--
-- Longest-prefix effect: numbers are billed by the longest matching prefix, so
--   * a REMOVED prefix's numbers fall back to the longest shorter prefix valid right after the
--     change (its "parent"): the effective new price of that range is the parent's price;
--   * a NEW prefix takes its numbers from the longest shorter prefix valid just before: the
--     effective old price of that range is the parent's price.
-- Candidate parents are the change prefix's own leading substrings (equi-join, no LIKE scan).
--
-- Reference call cost (docs/analysts.md): billed = a if d <= a, else
-- a + ceil((d - a) / b) * b; cost = price * billed / 60, rounded once, half-up, to
-- cost_decimals places, in integer arithmetic: the macros of sql/macros/200_reference_call.sql,
-- shared with voice_rate_change (direction = the email's up/down/... category).
--
-- Changes later withdrawn (voice_rate_change.withdrawn_at set) are left out: their withdrawn
-- row stands for them, so the report never sends them again and `ratedeck diff` shows the
-- withdrawal, not a change that will not happen.
--
-- Parameters: $tech_prefix (NULL = all), $since (NULL = all; changed_at >= since),
-- $unreported_only (skip changes already in report_change), $reference_seconds (> 0),
-- $cost_decimals (0..8).
WITH changes AS (
    -- the view's reference call uses the stored settings; this query is given them
    SELECT c.* EXCLUDE (reference_call_seconds, call_cost_decimals, old_call_cost,
                        new_call_cost, call_cost_direction, direction)
    FROM voice_rate_change c
    -- a change the carrier took back is shown (and reported) once, as its withdrawn row
    WHERE c.withdrawn_at IS NULL
      AND ($tech_prefix IS NULL OR c.tech_prefix = $tech_prefix)
      AND ($since IS NULL OR c.changed_at >= $since)
      AND (NOT $unreported_only OR NOT EXISTS (
               SELECT 1 FROM report_change r
               WHERE r.kind = 'voice' AND r.change_id = c.change_id))
),
live AS (
    SELECT tech_prefix, prefix, destination, price, initial_seconds, increment_seconds,
           valid_from, valid_to
    FROM voice_rate
    WHERE withdrawn_at IS NULL
),
ancestors AS (
    SELECT change_id, tech_prefix, change_type, changed_at, k, left(prefix, k) AS ancestor
    FROM (SELECT change_id, tech_prefix, change_type, changed_at, prefix,
                 unnest(range(1, length(prefix))) AS k
          FROM changes
          WHERE change_type IN ('new', 'removed'))
),
parent AS (
    SELECT a.change_id,
           v.prefix AS parent_prefix, v.destination AS parent_destination,
           v.price AS parent_price,
           v.initial_seconds AS parent_initial_seconds,
           v.increment_seconds AS parent_increment_seconds
    FROM ancestors a
    JOIN live v ON v.tech_prefix = a.tech_prefix AND v.prefix = a.ancestor
    WHERE CASE WHEN a.change_type = 'new'
               -- valid just before the change
               THEN v.valid_from < a.changed_at
                    AND (v.valid_to IS NULL OR v.valid_to >= a.changed_at)
               -- valid right after the change
               ELSE v.valid_from <= a.changed_at
                    AND (v.valid_to IS NULL OR v.valid_to > a.changed_at) END
    QUALIFY row_number() OVER (PARTITION BY a.change_id ORDER BY a.k DESC) = 1
),
effective AS (
    SELECT c.*, p.parent_prefix, p.parent_destination, p.parent_price,
           p.parent_initial_seconds, p.parent_increment_seconds,
           CASE c.change_type WHEN 'new' THEN p.parent_price
                WHEN 'withdrawn' THEN NULL ELSE c.old_price END AS effective_old_price,
           CASE c.change_type WHEN 'new' THEN p.parent_initial_seconds
                WHEN 'withdrawn' THEN NULL ELSE c.old_initial_seconds END AS effective_old_initial,
           CASE c.change_type WHEN 'new' THEN p.parent_increment_seconds
                WHEN 'withdrawn' THEN NULL ELSE c.old_increment_seconds END AS effective_old_increment,
           CASE c.change_type WHEN 'removed' THEN p.parent_price
                WHEN 'withdrawn' THEN NULL ELSE c.new_price END AS effective_new_price,
           CASE c.change_type WHEN 'removed' THEN p.parent_initial_seconds
                WHEN 'withdrawn' THEN NULL ELSE c.new_initial_seconds END AS effective_new_initial,
           CASE c.change_type WHEN 'removed' THEN p.parent_increment_seconds
                WHEN 'withdrawn' THEN NULL ELSE c.new_increment_seconds END AS effective_new_increment
    FROM changes c
    LEFT JOIN parent p USING (change_id)
),
billed AS (
    SELECT *,
           lpm_billed_seconds($reference_seconds, effective_old_initial, effective_old_increment)
               AS old_billed_seconds,
           lpm_billed_seconds($reference_seconds, effective_new_initial, effective_new_increment)
               AS new_billed_seconds
    FROM effective
),
costed AS (
    -- the reference call: one definition with voice_rate_change (sql/macros/200_reference_call.sql)
    SELECT *,
           reference_call_cost(effective_old_price, effective_old_initial,
                               effective_old_increment, $reference_seconds, $cost_decimals)
               AS old_call_cost,
           reference_call_cost(effective_new_price, effective_new_initial,
                               effective_new_increment, $reference_seconds, $cost_decimals)
               AS new_call_cost
    FROM billed
)
SELECT change_id, tech_prefix, prefix, change_type,
       old_destination, new_destination, old_price, new_price, price_change, price_change_pct,
       old_initial_seconds, old_increment_seconds, new_initial_seconds, new_increment_seconds,
       changed_at, effective_at, announced_at, notice_days, snapshot_id, stated_effective_at,
       parent_prefix, parent_destination, parent_price,
       parent_initial_seconds, parent_increment_seconds,
       effective_old_price, effective_new_price,
       effective_old_initial AS effective_old_initial_seconds,
       effective_old_increment AS effective_old_increment_seconds,
       effective_new_initial AS effective_new_initial_seconds,
       effective_new_increment AS effective_new_increment_seconds,
       CAST(exact_pct_change(effective_old_price, effective_new_price) AS DECIMAL(12, 4))
           AS effective_change_pct,
       old_billed_seconds, new_billed_seconds,
       old_call_cost, new_call_cost,
       new_call_cost - old_call_cost AS call_cost_change,
       CAST(exact_pct_change(old_call_cost, new_call_cost) AS DECIMAL(12, 4))
           AS call_cost_change_pct,
       CASE WHEN new_call_cost > old_call_cost THEN 'up'
            WHEN new_call_cost < old_call_cost THEN 'down'
            WHEN new_call_cost = old_call_cost THEN 'same' END AS call_cost_direction,
       reference_call_direction(change_type, old_call_cost, new_call_cost) AS direction
FROM costed
ORDER BY tech_prefix, changed_at, prefix, change_type
