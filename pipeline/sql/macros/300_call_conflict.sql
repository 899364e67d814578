-- How an import words a call it refused as a conflict (docs/cdr.md#corrected-calls): ONE
-- wording for CDR files and carrier exports (sql/queries/cdr_call_conflict_insert.sql,
-- carrier_call_conflict_insert.sql), which differ only in the fields they compare. Each gives
-- `fields`: the fields that differ, in the order they are worded, as a list of structs
-- {differs, was, now} (`was`: as stored, `now`: as the file says).

-- the lambda's name is not `f`: the callers join a file table aliased f
CREATE OR REPLACE MACRO call_conflict_says(fields, side) AS
    array_to_string(list_transform(fields, lambda field: struct_extract(field, side)), ', ');
COMMENT ON MACRO call_conflict_says IS 'call_conflict_says(fields, side): a refused conflicting call''s differing fields (a list of {differs, was, now} structs) as one text, side ''was'' (as stored) or ''now'' (as the file says), joined by '', ''.';

-- in_this_file: the call that stands is the file's own earlier row (stored_row); else it is
-- stored from the file named stored_in
CREATE OR REPLACE MACRO call_conflict_reason(call_id, fields, in_this_file, stored_row, stored_in) AS
    CASE WHEN in_this_file
         THEN 'call ' || call_id || ' is also at row ' || stored_row
              || ' of this file with ' || call_conflict_says(fields, 'was') || '; this row says '
              || call_conflict_says(fields, 'now') || ': row ' || stored_row || ' stands'
         ELSE 'call ' || call_id || ' is already stored with ' || call_conflict_says(fields, 'was')
              || ' (from ' || stored_in || ' row ' || stored_row
              || '); this file says ' || call_conflict_says(fields, 'now')
              || ': the stored call stands'
    END;
COMMENT ON MACRO call_conflict_reason IS 'call_conflict_reason(call_id, fields, in_this_file, stored_row, stored_in): ingest_reject''s reason for a call refused as a conflict with the one that stands (row stored_row of this file, or of the file named stored_in), naming the fields that differ (call_conflict_says).';
