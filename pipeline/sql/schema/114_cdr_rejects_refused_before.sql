-- A grown file's earlier bad rows are refused once (docs/cdr.md#bad-rows). Asterisk's
-- Master.csv is append-only and imported again as it grows; each import stored its earlier
-- bad rows again in ingest_reject, added them to cdr_file.reject_count and printed them again,
-- so summing reject counts over files counted the same rows several times. Now a reject whose
-- raw record is already in ingest_reject (kind cdr, the same format, the same row number: an
-- append-only file keeps its rows where they were) is counted in refused_before_count and not
-- stored again. Files imported before keep 0 (their repeated rejects stay as they were).
ALTER TABLE cdr_file ADD COLUMN refused_before_count INTEGER NOT NULL DEFAULT 0;

COMMENT ON COLUMN cdr_file.refused_before_count IS 'Rows ingest refused that an earlier import already refused: the same raw record at the same row number, already in ingest_reject (kind cdr, the same format), as a grown Master.csv holds its earlier bad rows again. Not stored again, nor counted in reject_count (docs/cdr.md#bad-rows). 0 for files imported before migration 114.';
COMMENT ON COLUMN cdr_file.reject_count IS 'Rows ingest refused (bad number, time or seconds) for the first time; reasons in ingest_reject (kind cdr, snapshot_id = file_id), beside the file''s conflicts (conflict_count). Rows an earlier import already refused are counted in refused_before_count instead (since migration 114).';
-- cdr_call.call_id: a later Dial attempt under an Asterisk uniqueid is uniqueid|dstchannel, and an
-- Asterisk call without uniqueid is named by start|channel|dstchannel (ingest/cdr.py)
COMMENT ON COLUMN cdr_call.call_id IS 'The switch''s call id (Asterisk uniqueid, FreeSWITCH uuid, the generic call_id column); an Asterisk Dial attempt to another dstchannel than the uniqueid''s first attempt in its file is uniqueid|dstchannel; without an id, the call''s record: the raw text of its fields as written in the file, | between them (Asterisk: start|channel|dstchannel, one Dial attempt; calls stored before migration 114 keep start|dst|duration|billsec|disposition|channel; FreeSWITCH: start_stamp|destination_number|duration|billsec|hangup_cause|caller_id_number; generic: started_at|number|seconds|tech_prefix), then #n, its occurrence among identical records of the file. Calls imported before migration 103 keep <sha256[:16]>:<row number>. Unique per call_day: an id already stored for a call within a day of an imported one is the same call and counts once (docs/cdr.md#formats).';
