-- Plan of one history (SCD2) snapshot: what happens to the stored open versions and the deck
-- rows of one scope. A template filled by pipeline/warehouse/history.py from a HistorySpec:
-- names in braces are validated identifiers or column lists; values are bound ($fetched_at,
-- $scope_N). The deck frame is registered (via Arrow) as the relation history_incoming.
--
-- Slots pair stored versions with deck rows in ONE full outer join on (key, slot) (on the key
-- alone when neither side has a schedule: every slot is then -infinity, one per key):
--   * the version in force at fetched_at: slot -infinity on both sides (the deck's in-force
--     row is its latest effective date <= fetched_at, or the row without a date);
--   * a scheduled (future-dated) version: slot = its effective date (= its valid_from).
-- Outcome per pair: keep (same values), close (in force, changed or gone), withdraw (scheduled,
-- changed or gone), open (deck row with no identical stored version). An in-force version the
-- deck leaves out is kept, not closed, when the deck has a future-dated row for its key: it
-- ends at that row's date, so a snapshot never unprices a prefix before its next version.
-- A stored version the deck leaves out is kept too when the deck REFUSED a row of its key
-- (history_refused: the keys of the snapshot's rejects, registered only when there are some;
-- without them history.py leaves out that join): a row ingest could not read is not a
-- removal, so the price in force is carried forward unchanged (carried, counted), and a
-- scheduled version is not withdrawn. Kept and opened versions
-- of a key form a chain (valid_to = next valid_from), so a scheduled version takes over by the
-- clock alone. Only rows with something to do are written (unchanged rows are the bulk of a
-- deck and cost nothing): every open/close/withdraw, and kept versions whose end moves.
CREATE OR REPLACE TEMP TABLE history_plan AS
WITH stored AS NOT MATERIALIZED (
    SELECT rowid AS row_id, {key_cols}, {value_cols},
           valid_from, valid_to,
           CASE WHEN valid_from <= $fetched_at THEN '-infinity'::TIMESTAMPTZ
                ELSE valid_from END AS slot
    FROM {table}
    WHERE {scope_pred}
      AND withdrawn_at IS NULL
      AND (valid_to IS NULL OR valid_to > $fetched_at)
),
deck AS NOT MATERIALIZED (
    SELECT {key_cols}, {value_cols}, eff,
           CASE WHEN eff IS NULL OR eff <= $fetched_at THEN '-infinity'::TIMESTAMPTZ
                ELSE eff END AS slot
    FROM (SELECT {key_cols}, {value_cols}, {incoming_eff} AS eff FROM history_incoming)
    {deck_dedupe}
),
-- keys with a scheduled version (stored or announced): the only ones with chains to rebuild.
-- in_deck: this deck announces one for the key.
scheduled_keys AS (
    SELECT {key_cols}, bool_or(in_deck) AS in_deck
    FROM (SELECT {key_cols}, false AS in_deck FROM stored WHERE slot <> '-infinity'
          UNION ALL
          SELECT {key_cols}, true FROM deck WHERE slot <> '-infinity')
    GROUP BY ALL
),
paired AS (
    SELECT s.row_id, s.valid_from AS stored_valid_from, s.valid_to AS stored_valid_to,
           s.row_id IS NOT NULL AS in_store, d.slot IS NOT NULL AS in_deck,
           coalesce(s.slot, d.slot) AS slot, d.eff AS deck_eff,
           {key_coalesce}, {deck_values},
           ({values_same}) AS same,
           {refused_expr} AS refused
    FROM stored s FULL OUTER JOIN deck d ON {key_join}{slot_join}{refused_join}
),
-- pairs with something to do, plus every pair of a key with a schedule (its chain is rebuilt).
-- Without any schedule (stored or in the deck) history.py leaves out the join with
-- scheduled_keys and sets new_valid_to to NULL: there are no chains to rebuild.
touched AS (
    SELECT p.*, {deck_announces} AS deck_announces
    FROM {touched_from}
    WHERE NOT (p.in_store AND p.in_deck AND p.same) {touched_also}
),
actions AS (
    SELECT *, in_store AND NOT in_deck AND refused AND slot = '-infinity' AS carried,
           unnest(CASE
        WHEN in_store AND in_deck AND same THEN ['keep']
        -- the in-force version is missing but the deck announces the key's next version: the
        -- carrier lists only what it already considers current (its deck day rolled over
        -- before ours). The price in force continues until that date (the chain ends it).
        WHEN in_store AND NOT in_deck AND slot = '-infinity' AND deck_announces THEN ['keep']
        -- the deck refused this key's row (a bad price, a conflicting duplicate): it says
        -- nothing readable about the key, so what is stored stands
        WHEN in_store AND NOT in_deck AND refused THEN ['keep']
        WHEN in_store AND in_deck THEN [CASE WHEN slot = '-infinity' THEN 'close' ELSE 'withdraw' END, 'open']
        WHEN in_store THEN [CASE WHEN slot = '-infinity' THEN 'close' ELSE 'withdraw' END]
        ELSE ['open'] END) AS action
    FROM touched
),
planned AS (
    SELECT action,
           CASE WHEN action = 'open' THEN NULL ELSE row_id END AS row_id,
           {key_cols}, {value_cols}, deck_eff AS eff,
           CASE WHEN action <> 'open' THEN stored_valid_from
                WHEN slot = '-infinity' THEN $fetched_at
                ELSE slot END AS valid_from,
           stored_valid_to, carried,
           action IN ('keep', 'open') AS active
    FROM actions
),
chained AS (
    SELECT *, {new_valid_to} AS new_valid_to
    FROM planned
)
SELECT * FROM chained
WHERE action <> 'keep' OR stored_valid_to IS DISTINCT FROM new_valid_to OR carried;
