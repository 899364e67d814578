-- Setting aside a refused CDR conflict (docs/cdr.md#applying-a-correction). A conflict that
-- should never be applied (an import read with the wrong [cdr] timezone or
-- voice.tech_prefixes, a landed copy lost) stayed pending for ever: `ratedeck cdr correct
-- --dismiss --why TEXT` now records the user's word that it is not to be applied. The refused
-- row stays in ingest_reject; this table only says it was dismissed, by whom, when and why.
-- Key: the refused row (file_id, row_number), dismissed once.
CREATE TABLE cdr_conflict_dismissal (
    file_id      BIGINT NOT NULL,
    row_number   BIGINT NOT NULL,
    call_id      VARCHAR NOT NULL,
    dismissed_at TIMESTAMPTZ NOT NULL,
    who          VARCHAR NOT NULL,
    why          VARCHAR NOT NULL,
    PRIMARY KEY (file_id, row_number)
);

COMMENT ON TABLE cdr_conflict_dismissal IS 'One row per refused CDR conflict set aside by ratedeck cdr correct --dismiss (docs/cdr.md#applying-a-correction): never applied, no longer pending. The refused row stays in ingest_reject (kind cdr, snapshot_id = file_id). Key: file_id, row_number.';
COMMENT ON COLUMN cdr_conflict_dismissal.file_id IS 'The cdr_file of the refused row. Key with row_number.';
COMMENT ON COLUMN cdr_conflict_dismissal.row_number IS 'Line of the refused row in its file. Key with file_id.';
COMMENT ON COLUMN cdr_conflict_dismissal.call_id IS 'The switch''s call id of the refused row.';
COMMENT ON COLUMN cdr_conflict_dismissal.dismissed_at IS 'When the dismissal was committed (UTC).';
COMMENT ON COLUMN cdr_conflict_dismissal.who IS 'Who dismissed it: cli:<OS user> for ratedeck cdr correct --dismiss.';
COMMENT ON COLUMN cdr_conflict_dismissal.why IS 'The reason given with --why.';
