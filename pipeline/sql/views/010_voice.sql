-- Voice views and table macros. Re-created on every migration run (CREATE OR REPLACE).

-- The deck of every tech prefix as it stood (or is scheduled to stand) at any moment:
--   SELECT * FROM voice_rate_at(TIMESTAMPTZ '2026-11-05 12:00:00+00') WHERE tech_prefix = 'current';
-- A tech prefix whose deck is an alias (voice_deck_aliases(), the one rule of
-- 050_voice_deck.sql that the LPM macros, lookup, cost and CDR costing apply: the demo's
-- 021001 is current's deck, stored once) has that deck's rows under its own name, so
-- WHERE tech_prefix = '021001' shows what prices it; rated_on names the deck (tech_prefix
-- itself for a deck of its own). Count a deck's rows once: WHERE tech_prefix = rated_on.
CREATE OR REPLACE MACRO voice_rate_at(at_ts) AS TABLE
SELECT tech_prefix, prefix, destination, price, initial_seconds, increment_seconds,
       currency, effective_at, valid_from, valid_to, first_seen_at, tech_prefix AS rated_on
FROM voice_rate
WHERE valid_from <= at_ts::TIMESTAMPTZ
  AND (valid_to IS NULL OR at_ts::TIMESTAMPTZ < valid_to)
UNION ALL
SELECT a.tech_prefix, r.prefix, r.destination, r.price, r.initial_seconds, r.increment_seconds,
       r.currency, r.effective_at, r.valid_from, r.valid_to, r.first_seen_at, r.tech_prefix
FROM voice_deck_aliases() a
JOIN voice_rate r ON r.tech_prefix = a.same_as
WHERE r.valid_from <= at_ts::TIMESTAMPTZ
  AND (r.valid_to IS NULL OR at_ts::TIMESTAMPTZ < r.valid_to);
COMMENT ON MACRO TABLE voice_rate_at IS 'voice_rate_at(at_ts): the voice deck of every tech prefix as it stood (or is scheduled to stand) at at_ts (TIMESTAMPTZ), an alias (voice_deck_aliases()) with the rows of the deck it shares; the columns of voice_rate_current.';

-- The rows valid now. A scheduled version becomes current at its date by the clock alone.
CREATE OR REPLACE VIEW voice_rate_current AS
SELECT * FROM voice_rate_at(current_timestamp);
COMMENT ON VIEW voice_rate_current IS 'The voice rates in force now, one row per (tech_prefix, prefix); an alias tech prefix (voice_deck_aliases()) has the rows of the deck it shares, rated_on naming it. A scheduled change becomes current at its date by the clock alone.';
COMMENT ON COLUMN voice_rate_current.tech_prefix IS 'Tech prefix (call plan): ''current'' or digits.';
COMMENT ON COLUMN voice_rate_current.prefix IS 'Dialled-number prefix, digits only, country code first; numbers are billed by their longest matching prefix.';
COMMENT ON COLUMN voice_rate_current.destination IS 'Destination name as the carrier writes it.';
COMMENT ON COLUMN voice_rate_current.price IS 'Price per minute in currency, exact DECIMAL(18, 8).';
COMMENT ON COLUMN voice_rate_current.initial_seconds IS 'Billing increments a/b: the first a seconds are billed as a block.';
COMMENT ON COLUMN voice_rate_current.increment_seconds IS 'Billing increments a/b: then b-second steps.';
COMMENT ON COLUMN voice_rate_current.currency IS 'ISO 4217 currency of price; NULL only for rows loaded before the currency was recorded.';
COMMENT ON COLUMN voice_rate_current.effective_at IS 'The carrier''s stated effective date (UTC); NULL for an undated deck.';
COMMENT ON COLUMN voice_rate_current.valid_from IS 'In force since (UTC, inclusive).';
COMMENT ON COLUMN voice_rate_current.valid_to IS 'In force until (UTC, exclusive); NULL: no end known (the usual case).';
COMMENT ON COLUMN voice_rate_current.first_seen_at IS 'When ratedeck first saw this version (UTC).';
COMMENT ON COLUMN voice_rate_current.rated_on IS 'The tech prefix whose deck (voice_rate rows) the row is: tech_prefix itself, or for an alias the deck it shares (voice_deck_aliases()). Count each deck once with WHERE tech_prefix = rated_on.';

-- One row per change between consecutive versions of a (tech_prefix, prefix).
-- The first snapshot of a tech prefix is the baseline: it yields no rows (nor do changes it
-- already announced, when they take effect or are withdrawn).
-- change_type: new | removed | increase | decrease | increment_change | renamed | withdrawn
--   (withdrawn: a scheduled change the carrier took back before it took effect).
-- changed_at (= effective_at): when the change takes (or took) effect in the history: a
--   scheduled version's effective date, else the fetch that saw the change (history before a
--   fetch is never rewritten); announced_at: when ratedeck first saw it (withdrawn: when it saw
--   the withdrawal); notice_days = whole UTC calendar days from announced_at to changed_at (0 for a
--   change seen only once in force); stated_effective_at: the carrier's own effective date for the new version, if any.
-- Reference call (as the finance email judges up/down; macros in sql/macros/200_reference_call.sql):
--   reference_call_seconds, call_cost_decimals: from report_setting ([report] settings, recorded
--   by ratedeck); old_call_cost/new_call_cost: that call at the old/new price and increments;
--   call_cost_direction: up | down | same (NULL for new/removed/withdrawn); direction: the
--   email's category: up | down | billing (increments only, the call costs the same) | new |
--   removed | renamed | withdrawn. change_type stays per minute: count by direction to match
--   the email.
-- withdrawn_at: when the carrier takes a scheduled version back, the change it made keeps its
--   row, id and values (it may have been reported: report_change refers to its change_id),
--   with withdrawn_at = when ratedeck saw the withdrawal; the withdrawal is a row of its own (change_type withdrawn, withdrawn_at NULL).
--   Changes that stand: WHERE withdrawn_at IS NULL.
CREATE OR REPLACE VIEW voice_rate_change AS
WITH baseline AS (
    SELECT tech_prefix, min(snapshot_id) AS baseline_snapshot_id
    FROM voice_snapshot GROUP BY tech_prefix
),
versions AS (
    SELECT r.*,
           lag(destination)       OVER w AS prev_destination,
           lag(price)             OVER w AS prev_price,
           lag(initial_seconds)   OVER w AS prev_initial_seconds,
           lag(increment_seconds) OVER w AS prev_increment_seconds,
           lag(valid_to)          OVER w AS prev_valid_to,
           lag(first_snapshot_id) OVER w AS prev_first_snapshot_id,
           lead(valid_from)       OVER w AS next_valid_from
    FROM voice_rate r
    WHERE withdrawn_at IS NULL
    WINDOW w AS (PARTITION BY tech_prefix, prefix ORDER BY valid_from)
),
-- A withdrawn (scheduled) version keeps the change it made while it was announced: it is
-- compared with its predecessor as the chain stood just before the withdrawal (the latest
-- version starting before it, seen before the withdrawal and not withdrawn before it). Its
-- interval is empty now, so the live chain above no longer holds it; without this, a change
-- already reported would vanish from the view when the carrier took it back.
taken_back AS (
    SELECT w.*,
           p.destination       AS prev_destination,
           p.price             AS prev_price,
           p.initial_seconds   AS prev_initial_seconds,
           p.increment_seconds AS prev_increment_seconds,
           -- the predecessor ended at this version's start then, unless it had ended before
           -- (closed by a fetch before the withdrawal: this version was a new prefix)
           CASE WHEN p.prefix IS NULL THEN NULL
                WHEN p.withdrawn_at IS NOT NULL OR p.valid_to IS NULL
                  OR p.valid_to >= w.withdrawn_at THEN w.valid_from
                ELSE p.valid_to END AS prev_valid_to,
           p.first_snapshot_id AS prev_first_snapshot_id
    FROM voice_rate w
    LEFT JOIN voice_rate p
      ON p.tech_prefix = w.tech_prefix AND p.prefix = w.prefix
     AND p.valid_from < w.valid_from
     AND p.first_seen_at < w.withdrawn_at
     AND (p.withdrawn_at IS NULL OR p.withdrawn_at >= w.withdrawn_at)
    WHERE w.withdrawn_at IS NOT NULL
    QUALIFY row_number() OVER (
        PARTITION BY w.tech_prefix, w.prefix, w.valid_from, w.first_snapshot_id
        ORDER BY p.valid_from DESC NULLS LAST) = 1
),
-- every version with the predecessor its change is judged against
judged AS (
    SELECT tech_prefix, prefix, destination, price, initial_seconds, increment_seconds,
           effective_at, valid_from, first_seen_at, first_snapshot_id, withdrawn_at,
           prev_destination, prev_price, prev_initial_seconds, prev_increment_seconds,
           prev_valid_to, prev_first_snapshot_id
    FROM versions
    UNION ALL
    SELECT tech_prefix, prefix, destination, price, initial_seconds, increment_seconds,
           effective_at, valid_from, first_seen_at, first_snapshot_id, withdrawn_at,
           prev_destination, prev_price, prev_initial_seconds, prev_increment_seconds,
           prev_valid_to, prev_first_snapshot_id
    FROM taken_back
),
transitions AS (
    SELECT v.tech_prefix, v.prefix,
           CASE WHEN v.price > v.prev_price THEN 'increase'
                WHEN v.price < v.prev_price THEN 'decrease'
                WHEN v.initial_seconds <> v.prev_initial_seconds
                  OR v.increment_seconds <> v.prev_increment_seconds THEN 'increment_change'
                WHEN v.destination <> v.prev_destination THEN 'renamed'
           END AS change_type,
           v.prev_destination AS old_destination, v.destination AS new_destination,
           v.prev_price AS old_price, v.price AS new_price,
           v.prev_initial_seconds AS old_initial_seconds,
           v.prev_increment_seconds AS old_increment_seconds,
           v.initial_seconds AS new_initial_seconds, v.increment_seconds AS new_increment_seconds,
           v.valid_from AS changed_at, v.first_seen_at AS announced_at,
           v.first_snapshot_id AS snapshot_id, v.effective_at AS stated_effective_at,
           v.withdrawn_at
    FROM judged v JOIN baseline b USING (tech_prefix)
    WHERE v.prev_valid_to IS NOT NULL AND v.prev_valid_to = v.valid_from
      AND NOT (v.first_snapshot_id = b.baseline_snapshot_id
               AND v.prev_first_snapshot_id = b.baseline_snapshot_id)
),
added AS (
    SELECT v.tech_prefix, v.prefix, 'new' AS change_type,
           NULL AS old_destination, v.destination AS new_destination,
           NULL AS old_price, v.price AS new_price,
           NULL AS old_initial_seconds, NULL AS old_increment_seconds,
           v.initial_seconds, v.increment_seconds,
           v.valid_from, v.first_seen_at, v.first_snapshot_id, v.effective_at, v.withdrawn_at
    FROM judged v JOIN baseline b USING (tech_prefix)
    WHERE (v.prev_valid_to IS NULL OR v.prev_valid_to <> v.valid_from)
      AND v.first_snapshot_id <> b.baseline_snapshot_id
),
removed AS (
    SELECT v.tech_prefix, v.prefix, 'removed' AS change_type,
           v.destination, NULL, v.price, NULL,
           v.initial_seconds, v.increment_seconds, NULL, NULL,
           v.valid_to, s.fetched_at, v.closed_snapshot_id, NULL, NULL
    FROM versions v JOIN voice_snapshot s ON s.snapshot_id = v.closed_snapshot_id
    WHERE v.valid_to IS NOT NULL
      AND (v.next_valid_from IS NULL OR v.next_valid_from <> v.valid_to)
),
withdrawn AS (
    SELECT r.tech_prefix, r.prefix, 'withdrawn' AS change_type,
           r.destination, NULL, r.price, NULL,
           r.initial_seconds, r.increment_seconds, NULL, NULL,
           r.valid_from, r.withdrawn_at, r.closed_snapshot_id, r.effective_at,
           NULL -- the withdrawal itself stands
    FROM voice_rate r JOIN baseline b USING (tech_prefix)
    WHERE r.withdrawn_at IS NOT NULL
      -- announced in the baseline: never reported as a change, so its withdrawal is not one
      AND r.first_snapshot_id <> b.baseline_snapshot_id
),
all_changes AS (
    SELECT * FROM transitions WHERE change_type IS NOT NULL
    UNION ALL SELECT * FROM added
    UNION ALL SELECT * FROM removed
    UNION ALL SELECT * FROM withdrawn
),
costed AS (
    SELECT c.*, s.reference_call_seconds, s.cost_decimals AS call_cost_decimals,
           reference_call_cost(c.old_price, c.old_initial_seconds, c.old_increment_seconds,
                               s.reference_call_seconds, s.cost_decimals) AS old_call_cost,
           reference_call_cost(c.new_price, c.new_initial_seconds, c.new_increment_seconds,
                               s.reference_call_seconds, s.cost_decimals) AS new_call_cost
    FROM all_changes c CROSS JOIN (SELECT * FROM report_setting LIMIT 1) s
)
SELECT md5(concat_ws('|', tech_prefix, prefix, change_type,
                     strftime(changed_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%f'),
                     snapshot_id)) AS change_id,
       tech_prefix, prefix, change_type,
       old_destination, new_destination,
       old_price, new_price,
       new_price - old_price AS price_change,
       CAST(exact_pct_change(old_price, new_price) AS DECIMAL(12, 4)) AS price_change_pct,
       old_initial_seconds, old_increment_seconds,
       new_initial_seconds, new_increment_seconds,
       changed_at,
       changed_at AS effective_at,
       announced_at,
       -- calendar days (UTC) from the day ratedeck first saw the change to the day it takes
       -- effect: "announced 7 days ahead" is 7, whatever the hour of the download
       date_diff('day', CAST(timezone('UTC', announced_at) AS DATE),
                 CAST(timezone('UTC', changed_at) AS DATE)) AS notice_days,
       snapshot_id,
       stated_effective_at,
       reference_call_seconds,
       call_cost_decimals,
       old_call_cost,
       new_call_cost,
       CASE WHEN new_call_cost > old_call_cost THEN 'up'
            WHEN new_call_cost < old_call_cost THEN 'down'
            WHEN new_call_cost = old_call_cost THEN 'same' END AS call_cost_direction,
       reference_call_direction(change_type, old_call_cost, new_call_cost) AS direction,
       withdrawn_at
FROM costed;
COMMENT ON VIEW voice_rate_change IS 'One row per voice price change between consecutive versions of a (tech_prefix, prefix), oldest first; the first snapshot of a tech prefix is the baseline and yields none. A change the carrier took back keeps its row, change_id and values, with withdrawn_at set (changes that stand: withdrawn_at IS NULL). Unreported changes: those without a report_change row (kind voice).';
COMMENT ON COLUMN voice_rate_change.change_id IS 'Stable id of the change (md5 of tech prefix, prefix, type, time, snapshot); report_change.change_id refers to it. Key.';
COMMENT ON COLUMN voice_rate_change.tech_prefix IS 'Tech prefix (call plan) of the deck.';
COMMENT ON COLUMN voice_rate_change.prefix IS 'Dialled-number prefix that changed.';
COMMENT ON COLUMN voice_rate_change.change_type IS 'new | removed | increase | decrease | increment_change | renamed | withdrawn (a scheduled change the carrier took back). Per minute price; count by direction to match the email.';
COMMENT ON COLUMN voice_rate_change.old_destination IS 'Destination name before (withdrawn: of the announced version); NULL for new.';
COMMENT ON COLUMN voice_rate_change.new_destination IS 'Destination name after; NULL for removed and withdrawn.';
COMMENT ON COLUMN voice_rate_change.old_price IS 'Price per minute before, exact (withdrawn: the price that had been announced); NULL for new.';
COMMENT ON COLUMN voice_rate_change.new_price IS 'Price per minute after, exact; NULL for removed and withdrawn.';
COMMENT ON COLUMN voice_rate_change.price_change IS 'new_price - old_price per minute, exact; NULL unless both exist.';
COMMENT ON COLUMN voice_rate_change.price_change_pct IS 'Change in % of old_price, 4 decimals, rounded half up; NULL when old_price is NULL or 0.';
COMMENT ON COLUMN voice_rate_change.old_initial_seconds IS 'Billing increments before: first a seconds (withdrawn: announced); NULL for new.';
COMMENT ON COLUMN voice_rate_change.old_increment_seconds IS 'Billing increments before: then b-second steps; NULL for new.';
COMMENT ON COLUMN voice_rate_change.new_initial_seconds IS 'Billing increments after: first a seconds; NULL for removed and withdrawn.';
COMMENT ON COLUMN voice_rate_change.new_increment_seconds IS 'Billing increments after: then b-second steps; NULL for removed and withdrawn.';
COMMENT ON COLUMN voice_rate_change.changed_at IS 'When the change takes (or took) effect (UTC): a scheduled version''s effective date, else the fetch that saw it.';
COMMENT ON COLUMN voice_rate_change.effective_at IS 'Same as changed_at (the name the original design contract uses).';
COMMENT ON COLUMN voice_rate_change.announced_at IS 'When ratedeck first saw the change (UTC); for withdrawn, when it saw the withdrawal.';
COMMENT ON COLUMN voice_rate_change.notice_days IS 'Whole UTC calendar days from announced_at to changed_at; 0 for a change first seen in force.';
COMMENT ON COLUMN voice_rate_change.snapshot_id IS 'The voice_snapshot that brought the change.';
COMMENT ON COLUMN voice_rate_change.stated_effective_at IS 'The carrier''s own effective date of the new version (UTC); NULL when the deck states none.';
COMMENT ON COLUMN voice_rate_change.reference_call_seconds IS 'Length of the reference call judging up/down (report_setting).';
COMMENT ON COLUMN voice_rate_change.call_cost_decimals IS 'Decimals of the reference call cost (report_setting).';
COMMENT ON COLUMN voice_rate_change.old_call_cost IS 'Reference call cost at the old price and increments, rounded half up; NULL for new.';
COMMENT ON COLUMN voice_rate_change.new_call_cost IS 'Reference call cost at the new price and increments; NULL for removed and withdrawn.';
COMMENT ON COLUMN voice_rate_change.call_cost_direction IS 'up | down | same: how the reference call cost moved; NULL for new, removed and withdrawn.';
COMMENT ON COLUMN voice_rate_change.direction IS 'The finance email''s category: up | down | billing (increments only, the call costs the same) | new | removed | renamed | withdrawn.';
COMMENT ON COLUMN voice_rate_change.withdrawn_at IS 'When ratedeck saw the carrier take this announced change back before it took effect (UTC); the change keeps its row, change_id and values, and the withdrawal is its own row (change_type withdrawn, reported once). NULL for changes that stand, withdrawn rows included.';
