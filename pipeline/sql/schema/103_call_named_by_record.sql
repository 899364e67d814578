-- cdr_call.call_id is re-commented: a call the switch gave no id is named by its record (the
-- raw text of its own fields as written in the file, and its occurrence among identical
-- records of the file), no longer by its file (<sha256[:16]>:<row>), so that a grown
-- append-only file (Asterisk's Master.csv has no uniqueid by default) adds only its new calls.
-- Calls stored before keep their ids; cdr_call_insert.sql recognises them in a grown file.
COMMENT ON COLUMN cdr_call.call_id IS 'The switch''s call id (Asterisk uniqueid, FreeSWITCH uuid, the generic call_id column); without one, the call''s record: the raw text of its fields as written in the file, | between them (Asterisk: start|dst|duration|billsec|disposition|channel; FreeSWITCH: start_stamp|destination_number|duration|billsec|hangup_cause|caller_id_number; generic: started_at|number|seconds|tech_prefix), then #n, its occurrence among identical records of the file. Calls imported before migration 103 keep <sha256[:16]>:<row number>. Unique per call_day: an id already stored for a call within a day of an imported one is the same call and counts once (docs/cdr.md#formats).';
