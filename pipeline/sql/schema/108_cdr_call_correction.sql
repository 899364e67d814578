-- Applying a corrected CDR (docs/cdr.md#applying-a-correction). An import refuses a row that
-- corrects a stored call (104_cdr_call_conflicts.sql) and nothing could apply it. `ratedeck
-- cdr correct --why TEXT` now supersedes the stored call with a refused row's values, on the
-- user's word; this table keeps what it superseded (nothing the user imported is deleted), who
-- applied it, when and why, and from which file and row the new values came. One row per
-- applied conflict: the key (file_id, row_number) is the correcting row, so a correction is
-- applied once.
CREATE TABLE cdr_call_correction (
    file_id              BIGINT NOT NULL,       -- the correcting row's file and line: the call's
    row_number           BIGINT NOT NULL,       -- cdr_call.file_id and row_number since
    call_id              VARCHAR NOT NULL,
    call_day             DATE NOT NULL,         -- the call's UTC day after the correction
    applied_at           TIMESTAMPTZ NOT NULL,
    who                  VARCHAR NOT NULL,
    why                  VARCHAR NOT NULL,
    old_file_id          BIGINT NOT NULL,       -- the superseded call, as cdr_call held it
    old_row_number       BIGINT NOT NULL,
    old_started_at       TIMESTAMPTZ NOT NULL,
    old_call_day         DATE NOT NULL,
    old_dialled          VARCHAR NOT NULL,
    old_number           VARCHAR NOT NULL,
    old_tech_prefix      VARCHAR NOT NULL,
    old_duration_seconds BIGINT,
    old_billsec          BIGINT NOT NULL,
    old_billable         BOOLEAN NOT NULL,
    old_disposition      VARCHAR,
    old_costed           BOOLEAN NOT NULL,
    old_cost             DECIMAL(18, 8),
    PRIMARY KEY (file_id, row_number)
);

COMMENT ON TABLE cdr_call_correction IS 'One row per corrected call applied by ratedeck cdr correct (docs/cdr.md#applying-a-correction): a row an import refused as a conflict (same switch call id, other values) superseded the stored call, whose values are kept here (old_*), with who, when and why. cdr_call holds the corrected values; nothing imported is deleted. Key: file_id, row_number (the correcting row: applied once).';
COMMENT ON COLUMN cdr_call_correction.file_id IS 'The cdr_file of the correcting row (its conflict is in ingest_reject, kind cdr, snapshot_id = file_id). Since the correction, cdr_call.file_id of the call. Key with row_number.';
COMMENT ON COLUMN cdr_call_correction.row_number IS 'Line of the correcting row in its file; cdr_call.row_number of the call since. Key with file_id.';
COMMENT ON COLUMN cdr_call_correction.call_id IS 'The switch''s call id (the stored call and the correcting row share it).';
COMMENT ON COLUMN cdr_call_correction.call_day IS 'UTC day of the call after the correction (its start may have moved it to a day either side of old_call_day).';
COMMENT ON COLUMN cdr_call_correction.applied_at IS 'When the correction was committed (UTC).';
COMMENT ON COLUMN cdr_call_correction.who IS 'Who applied it: cli:<OS user> for ratedeck cdr correct.';
COMMENT ON COLUMN cdr_call_correction.why IS 'The reason given with --why (also in cdr_costing_log.why of the days it recosted, after ''correction: '').';
COMMENT ON COLUMN cdr_call_correction.old_file_id IS 'The cdr_file the superseded values came from (the import that stored the call, or an earlier correction''s file).';
COMMENT ON COLUMN cdr_call_correction.old_row_number IS 'Line of the superseded values in old_file_id.';
COMMENT ON COLUMN cdr_call_correction.old_started_at IS 'Superseded start (UTC).';
COMMENT ON COLUMN cdr_call_correction.old_call_day IS 'Superseded UTC day.';
COMMENT ON COLUMN cdr_call_correction.old_dialled IS 'Superseded number as the switch sent it.';
COMMENT ON COLUMN cdr_call_correction.old_number IS 'Superseded called number (digits, without the tech prefix).';
COMMENT ON COLUMN cdr_call_correction.old_tech_prefix IS 'Superseded route.';
COMMENT ON COLUMN cdr_call_correction.old_duration_seconds IS 'Superseded whole duration in seconds (NULL for generic files).';
COMMENT ON COLUMN cdr_call_correction.old_billsec IS 'Superseded talk seconds.';
COMMENT ON COLUMN cdr_call_correction.old_billable IS 'Whether the superseded call billed.';
COMMENT ON COLUMN cdr_call_correction.old_disposition IS 'Superseded outcome (Asterisk disposition, FreeSWITCH hangup_cause; NULL for generic files).';
COMMENT ON COLUMN cdr_call_correction.old_costed IS 'true when the superseded call had a cdr_cost row when it was superseded (false: not costed yet, or an earlier correction of the same run).';
COMMENT ON COLUMN cdr_call_correction.old_cost IS 'That cdr_cost.cost, exact (NULL: not costed, or no prefix matched; see old_costed). The day''s totals before and after are in cdr_costing_log.';
