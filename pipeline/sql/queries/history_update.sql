-- Ends stored versions per history_plan: close (in force, changed or gone: valid_to = fetch
-- time), withdraw (scheduled, taken back: empty interval, withdrawn_at set), and re-chain kept
-- versions whose successor changed. Template filled by pipeline/warehouse/history.py.
UPDATE {table} AS t
SET valid_to = CASE p.action WHEN 'keep' THEN p.new_valid_to
                             WHEN 'close' THEN $fetched_at
                             ELSE t.valid_from END,
    closed_snapshot_id = CASE WHEN p.action = 'keep' THEN t.closed_snapshot_id
                              ELSE $snapshot_id END,
    withdrawn_at = CASE WHEN p.action = 'withdraw' THEN $fetched_at ELSE t.withdrawn_at END
FROM history_plan p
WHERE t.rowid = p.row_id AND p.row_id IS NOT NULL
  -- a carried version whose end stays (see history_plan.sql) has nothing to write
  AND (p.action <> 'keep' OR p.stored_valid_to IS DISTINCT FROM p.new_valid_to);
