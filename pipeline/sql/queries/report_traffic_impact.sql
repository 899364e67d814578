-- Monthly cost impact of each change on a traffic profile (pipeline/analytics/diff.py).
-- Inputs, registered by the caller:
--   report_traffic (line BIGINT, tech_prefix VARCHAR = the deck the row is priced on,
--                   key VARCHAR digits: a number or a prefix, minutes DECIMAL)
--   report_changes (change_id, tech_prefix, prefix, change_type, changed_at,
--                   effective_old_price, effective_new_price)
-- Each traffic row runs on ONE route, so its minutes count once, not once per tech prefix. The
-- caller routes it (diff.routed_traffic): its tech prefix, else the default route; an alias on
-- the deck it shares, by the one rule lookup, cost and the LPM macros apply
-- (voice_deck_aliases(), macros/050_voice_deck.sql), not a copy of it here.
-- A traffic row is "routed through" a change when the change's prefix is the longest prefix
-- matching it on the side(s) where the change's prefix exists: before the change for a removed
-- prefix, after it for a new one, both for a price/increment change (numbers that move to or
-- from a longer prefix at the same moment belong to that longer prefix's own change row).
-- So at each moment a traffic row counts for one change at most.
WITH moments AS (
    SELECT DISTINCT tech_prefix, changed_at FROM report_changes
),
live AS (
    SELECT tech_prefix, prefix, valid_from, valid_to
    FROM voice_rate
    WHERE withdrawn_at IS NULL
),
heads AS (
    SELECT line, tech_prefix, minutes, k, left(key, k) AS head
    FROM (SELECT *, unnest(range(1, length(key) + 1)) AS k FROM report_traffic)
),
routed AS (
    SELECT m.tech_prefix, m.changed_at, h.line, h.minutes,
           arg_max(v.prefix, h.k) FILTER (
               WHERE v.valid_from < m.changed_at
                 AND (v.valid_to IS NULL OR v.valid_to >= m.changed_at)) AS prefix_before,
           arg_max(v.prefix, h.k) FILTER (
               WHERE v.valid_from <= m.changed_at
                 AND (v.valid_to IS NULL OR v.valid_to > m.changed_at)) AS prefix_after
    FROM heads h
    JOIN live v ON v.prefix = h.head AND v.tech_prefix = h.tech_prefix
    JOIN moments m ON m.tech_prefix = v.tech_prefix
    GROUP BY m.tech_prefix, m.changed_at, h.line, h.minutes
),
minutes AS (
    SELECT c.change_id, sum(r.minutes) AS monthly_minutes
    FROM report_changes c
    JOIN routed r ON r.tech_prefix = c.tech_prefix AND r.changed_at = c.changed_at
    WHERE CASE c.change_type
              -- a number moving between a removed and a new prefix counts once: for the
              -- longer one, whose effective prices are that number's (the other is its parent)
              WHEN 'removed' THEN r.prefix_before = c.prefix
                              AND coalesce(length(r.prefix_after) < length(c.prefix), true)
              WHEN 'new' THEN r.prefix_after = c.prefix
                          AND coalesce(length(r.prefix_before) < length(c.prefix), true)
              WHEN 'withdrawn' THEN false
              ELSE r.prefix_before = c.prefix AND r.prefix_after = c.prefix END
    GROUP BY c.change_id
)
SELECT c.change_id,
       coalesce(m.monthly_minutes, 0) AS monthly_minutes,
       coalesce(m.monthly_minutes, 0) * (c.effective_new_price - c.effective_old_price)
           AS monthly_impact
FROM report_changes c
LEFT JOIN minutes m USING (change_id)
