-- Inserts the versions history_plan opens. Template filled by pipeline/warehouse/history.py.
INSERT INTO {table} ({scope_cols}, {key_cols}, {value_cols}{eff_col_list},
                     valid_from, valid_to, first_seen_at, first_snapshot_id)
SELECT {scope_values}, {key_cols}, {value_cols}{eff_select},
       valid_from, new_valid_to, $fetched_at, $snapshot_id
FROM history_plan
WHERE action = 'open';
