-- Reconciliation with the carrier (docs/cdr.md#reconciliation): the carrier's own call export
-- (CommPeak's portal CSV) imported as files, append-only like the switch's CDRs, and the
-- settings the reconcile views read (one row). Rejected rows go to ingest_reject (kind
-- 'carrier', snapshot_id = carrier_file.file_id).

CREATE SEQUENCE IF NOT EXISTS carrier_file_id_seq START 1;

CREATE TABLE IF NOT EXISTS carrier_file (
    file_id          BIGINT PRIMARY KEY,
    content_sha256   VARCHAR NOT NULL UNIQUE,   -- importing the same bytes again is a no-op
    original_name    VARCHAR NOT NULL,
    raw_path         VARCHAR NOT NULL,          -- landing-zone copy, relative to the data dir
    imported_at      TIMESTAMPTZ NOT NULL,
    row_count        INTEGER NOT NULL,          -- billed calls the file added
    duplicate_count  INTEGER NOT NULL,          -- calls an earlier export already brought
    reject_count     INTEGER NOT NULL,
    first_started_at TIMESTAMPTZ,
    last_started_at  TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS carrier_call (
    call_id        VARCHAR PRIMARY KEY,         -- the carrier's id: a call counts once
    file_id        BIGINT NOT NULL,
    row_number     BIGINT NOT NULL,
    started_at     TIMESTAMPTZ NOT NULL,
    call_day       DATE NOT NULL,
    tech_prefix    VARCHAR NOT NULL,
    number         VARCHAR NOT NULL,
    destination    VARCHAR,
    prefix         VARCHAR,
    seconds        BIGINT NOT NULL,
    billed_seconds BIGINT NOT NULL,
    rate           DECIMAL(18, 8) NOT NULL,
    cost           DECIMAL(18, 8) NOT NULL,
    currency       VARCHAR
);

-- The [reconcile] settings the views use (one row): written by ratedeck whenever it imports
-- a carrier export or reconciles (pipeline/warehouse/reconcile.py); the defaults until then.
CREATE TABLE IF NOT EXISTS reconcile_setting (
    id                BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
    tolerance_pct     DECIMAL(9, 4) NOT NULL CHECK (tolerance_pct >= 0),
    match_tolerance_s INTEGER NOT NULL CHECK (match_tolerance_s >= 0),
    updated_at        TIMESTAMPTZ
);
INSERT INTO reconcile_setting (id, tolerance_pct, match_tolerance_s)
SELECT true, 2, 2 WHERE NOT EXISTS (SELECT 1 FROM reconcile_setting);

COMMENT ON SEQUENCE carrier_file_id_seq IS 'Ids of carrier_file.';

COMMENT ON TABLE carrier_file IS 'One row per carrier call export imported (ratedeck cdr import --carrier): the lineage of carrier_call. Append-only; the same bytes import once. Key: file_id.';
COMMENT ON COLUMN carrier_file.file_id IS 'File id (carrier_file_id_seq). Key; carrier_call.file_id and ingest_reject.snapshot_id (kind carrier) refer to it.';
COMMENT ON COLUMN carrier_file.content_sha256 IS 'sha256 (hex) of the file''s bytes. Unique: importing the same export again changes nothing.';
COMMENT ON COLUMN carrier_file.original_name IS 'The file''s name where it was imported from.';
COMMENT ON COLUMN carrier_file.raw_path IS 'The immutable copy in the landing zone, relative to the data directory (raw/cdr/carrier/...).';
COMMENT ON COLUMN carrier_file.imported_at IS 'When the file was imported (UTC).';
COMMENT ON COLUMN carrier_file.row_count IS 'Billed calls the file added to carrier_call.';
COMMENT ON COLUMN carrier_file.duplicate_count IS 'Valid rows not added because an earlier export already brought their call id (counted once).';
COMMENT ON COLUMN carrier_file.reject_count IS 'Rows refused; reasons in ingest_reject (kind carrier, snapshot_id = file_id).';
COMMENT ON COLUMN carrier_file.first_started_at IS 'Start of the earliest call the file added (UTC).';
COMMENT ON COLUMN carrier_file.last_started_at IS 'Start of the latest call the file added (UTC).';

COMMENT ON TABLE carrier_call IS 'The calls the carrier says it billed, one row per call, from its own exports (columns mapped by reconcile.columns). Key: call_id.';
COMMENT ON COLUMN carrier_call.call_id IS 'The carrier''s id of the call. Key: a call counts once across overlapping exports.';
COMMENT ON COLUMN carrier_call.file_id IS 'The carrier_file that brought the call.';
COMMENT ON COLUMN carrier_call.row_number IS 'Line of the call in its file (the header is line 1).';
COMMENT ON COLUMN carrier_call.started_at IS 'When the call started, as the carrier logged it (UTC).';
COMMENT ON COLUMN carrier_call.call_day IS 'UTC date of started_at.';
COMMENT ON COLUMN carrier_call.tech_prefix IS 'The tech prefix the carrier billed on; current when the export names none (the account''s default plan).';
COMMENT ON COLUMN carrier_call.number IS 'The called number, digits, without the tech prefix.';
COMMENT ON COLUMN carrier_call.destination IS 'The carrier''s destination name of the deck row that billed it.';
COMMENT ON COLUMN carrier_call.prefix IS 'The deck prefix that billed it (the carrier''s longest prefix match).';
COMMENT ON COLUMN carrier_call.seconds IS 'Seconds the carrier measured (compare cdr_call.billsec).';
COMMENT ON COLUMN carrier_call.billed_seconds IS 'Seconds the carrier billed after its increments.';
COMMENT ON COLUMN carrier_call.rate IS 'Price per minute the carrier applied (exact).';
COMMENT ON COLUMN carrier_call.cost IS 'What the carrier charged for the call (exact).';
COMMENT ON COLUMN carrier_call.currency IS 'Currency of rate and cost.';

COMMENT ON TABLE reconcile_setting IS 'The [reconcile] settings the reconcile views use (one row), recorded by ratedeck when it imports a carrier export or reconciles; the defaults until then.';
COMMENT ON COLUMN reconcile_setting.id IS 'Always true: the table has one row.';
COMMENT ON COLUMN reconcile_setting.tolerance_pct IS 'reconcile.tolerance_pct: a day whose balance spend differs from its costed calls by more than this percentage is beyond tolerance.';
COMMENT ON COLUMN reconcile_setting.match_tolerance_s IS 'reconcile.match_tolerance_s: a carrier row and a switch call to the same number are one call when their starts differ by at most this many seconds.';
COMMENT ON COLUMN reconcile_setting.updated_at IS 'When the settings last changed (NULL: the defaults).';

-- ingest_reject now also holds refused rows of carrier exports
COMMENT ON COLUMN ingest_reject.kind IS 'voice, sms, cdr or carrier.';
COMMENT ON COLUMN ingest_reject.snapshot_id IS 'The voice_snapshot or sms_snapshot the file was loaded as; for kind cdr, the cdr_file.file_id; for kind carrier, the carrier_file.file_id.';
COMMENT ON COLUMN ingest_reject.source IS 'Where the row came from: the tech prefix (voice), the SMS channel ''username:id'', the CDR format (cdr), or carrier (a carrier export).';
