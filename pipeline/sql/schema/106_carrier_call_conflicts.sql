-- A carrier export's re-billed call is refused, no longer counted as a repeat
-- (docs/cdr.md#corrected-calls). The carrier sometimes exports a call again under the same call
-- id with other values (another cost, rate, duration or start): it billed the call
-- differently, which is what reconciling its bill must show. The import counted such a row
-- with the repeats. Now a row whose call id is stored for a call within a day of it (or
-- earlier on the same UTC day in the same export) with other values is a conflict, as for
-- the switch's CDRs (104_cdr_call_conflicts.sql): refused into ingest_reject (kind carrier)
-- with its row number and what differs, counted in carrier_file.conflict_count; the stored
-- call stands. Exports imported before keep 0: their re-billed rows were counted as repeats.
ALTER TABLE carrier_file ADD COLUMN conflict_count INTEGER NOT NULL DEFAULT 0;

COMMENT ON COLUMN carrier_file.conflict_count IS 'Valid rows refused because their call id is stored for a call within a day of it, or earlier on the same UTC day in this export, with other values (start, tech prefix, number, destination, prefix, duration, billed seconds, rate, cost or currency): the carrier billed the call again differently. Each is in ingest_reject (kind carrier, snapshot_id = file_id) with its row number and what differs; the stored call stands (docs/cdr.md#corrected-calls). 0 for exports imported before migration 106, whose such rows were counted in duplicate_count.';
COMMENT ON COLUMN carrier_file.duplicate_count IS 'Valid rows not added because the call was already there with the same values: its call id repeated on the same UTC day earlier in this export, or already stored for a call within a day of it. The same id with other values is a conflict (conflict_count). An id seen again days later is another call, and is added.';
COMMENT ON COLUMN carrier_file.reject_count IS 'Rows ingest refused; reasons in ingest_reject (kind carrier, snapshot_id = file_id), beside the export''s conflicts (conflict_count).';
