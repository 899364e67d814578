-- A corrected CDR is refused, no longer counted as a repeat (docs/cdr.md#corrected-calls). A
-- switch sometimes exports a call again with other values (seconds, number, start, route)
-- under the same call id; the import counted such a row with the repeats, and nothing said
-- that the file disagreed with the stored call. Now a row whose switch call id is stored for a
-- call within a day of it (or earlier in the same file, on the same day) with other values is
-- a conflict: refused into ingest_reject with its row number and a reason naming what
-- differs, counted in cdr_file.conflict_count; the stored call (and its cost) stands.
-- duplicate_count now counts true repeats only. Files imported before keep 0 conflicts: their
-- corrected rows were counted as duplicates.
ALTER TABLE cdr_file ADD COLUMN conflict_count INTEGER NOT NULL DEFAULT 0;

COMMENT ON COLUMN cdr_file.conflict_count IS 'Valid rows refused because their switch call id is stored for a call within a day of it, or earlier on the same UTC day in this file, with other values (start, number, tech prefix, duration, billsec or disposition): a corrected call. Each is in ingest_reject (kind cdr, snapshot_id = file_id) with its row number and what differs; the stored call stands (docs/cdr.md#corrected-calls). 0 for files imported before migration 104, whose conflicts were counted in duplicate_count.';
COMMENT ON COLUMN cdr_file.duplicate_count IS 'Valid calls not added because the call was already there with the same values: its call_id repeated on the same UTC day earlier in this file, or already stored for a call within a day of it (docs/cdr.md#formats). The same id with other values is a conflict (conflict_count). An id seen again days later is another call, and is added.';
COMMENT ON COLUMN cdr_file.reject_count IS 'Rows ingest refused (bad number, time or seconds); reasons in ingest_reject (kind cdr, snapshot_id = file_id), beside the file''s conflicts (conflict_count).';
COMMENT ON COLUMN ingest_reject.raw IS 'The raw cell values as a JSON object (column header -> text; for a headerless CDR file, column number -> text). For a CDR conflict (a corrected call, cdr_file.conflict_count), the call as the import read it (call_id, started_at, number, tech_prefix, duration_seconds, billsec, disposition).';
