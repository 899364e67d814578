-- The customer's own calls (docs/cdr.md): switch exports imported as files (append-only, not
-- history: a file is a fact, not a snapshot of something that changes), their calls, and the
-- calls costed per UTC day. Rejected rows go to ingest_reject (kind 'cdr', snapshot_id =
-- file_id, source = the file's format).

CREATE SEQUENCE IF NOT EXISTS cdr_file_id_seq START 1;
CREATE SEQUENCE IF NOT EXISTS cdr_costing_run_seq START 1;

CREATE TABLE IF NOT EXISTS cdr_file (
    file_id          BIGINT PRIMARY KEY,
    content_sha256   VARCHAR NOT NULL UNIQUE,   -- importing the same bytes again is a no-op
    original_name    VARCHAR NOT NULL,          -- the file's name where it was imported from
    raw_path         VARCHAR NOT NULL,          -- landing-zone copy, relative to the data dir
    source_format    VARCHAR NOT NULL,          -- asterisk | freeswitch | generic[-parquet]
    imported_at      TIMESTAMPTZ NOT NULL,
    row_count        INTEGER NOT NULL,          -- calls kept (billable + not billable)
    billable_count   INTEGER NOT NULL,
    unbillable_count INTEGER NOT NULL,
    duplicate_count  INTEGER NOT NULL,          -- calls another file already brought
    reject_count     INTEGER NOT NULL,
    first_started_at TIMESTAMPTZ,
    last_started_at  TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS cdr_call (
    call_id          VARCHAR PRIMARY KEY,       -- the switch's id, else <sha256[:16]>:<row>
    file_id          BIGINT NOT NULL,
    row_number       BIGINT NOT NULL,
    started_at       TIMESTAMPTZ NOT NULL,
    call_day         DATE NOT NULL,             -- UTC day of started_at: the costing partition
    dialled          VARCHAR NOT NULL,
    number           VARCHAR NOT NULL,
    tech_prefix      VARCHAR NOT NULL,
    duration_seconds BIGINT,
    billsec          BIGINT NOT NULL,
    billable         BOOLEAN NOT NULL,
    disposition      VARCHAR,
    UNIQUE (file_id, row_number)
);

CREATE TABLE IF NOT EXISTS cdr_cost (
    call_id           VARCHAR PRIMARY KEY,
    call_day          DATE NOT NULL,
    started_at        TIMESTAMPTZ NOT NULL,
    tech_prefix       VARCHAR NOT NULL,         -- the call's route
    rated_on          VARCHAR NOT NULL,         -- the deck that priced it (an alias's target)
    number            VARCHAR NOT NULL,
    billsec           BIGINT NOT NULL,
    matched_prefix    VARCHAR,                  -- NULL: no prefix matched at started_at
    destination       VARCHAR,
    price             DECIMAL(18, 8),
    initial_seconds   INTEGER,
    increment_seconds INTEGER,
    billed_seconds    BIGINT,
    cost              DECIMAL(18, 8),
    currency          VARCHAR,
    rate_valid_from   TIMESTAMPTZ,
    costed_at         TIMESTAMPTZ NOT NULL,
    costing_run       BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS cdr_costing_log (
    costing_run   BIGINT PRIMARY KEY,
    call_day      DATE NOT NULL,
    costed_at     TIMESTAMPTZ NOT NULL,
    recost        BOOLEAN NOT NULL,             -- true: the day's costs were replaced
    who           VARCHAR NOT NULL,
    why           VARCHAR NOT NULL,
    calls         BIGINT NOT NULL,              -- calls this run costed
    unmatched     BIGINT NOT NULL,
    cost_decimals INTEGER NOT NULL,
    old_total     DECIMAL(38, 8),               -- the day's total before (NULL: first costing)
    new_total     DECIMAL(38, 8) NOT NULL       -- the day's total after
);

COMMENT ON SEQUENCE cdr_file_id_seq IS 'Ids of cdr_file.';
COMMENT ON SEQUENCE cdr_costing_run_seq IS 'Ids of cdr_costing_log (one per costing of a day).';

COMMENT ON TABLE cdr_file IS 'One row per call detail record file imported (ratedeck cdr import, or the cdr_files sensor): the lineage of cdr_call. Append-only; the same bytes import once. Key: file_id.';
COMMENT ON COLUMN cdr_file.file_id IS 'File id (cdr_file_id_seq). Key; cdr_call.file_id and ingest_reject.snapshot_id (kind cdr) refer to it.';
COMMENT ON COLUMN cdr_file.content_sha256 IS 'sha256 (hex) of the file''s bytes. Unique: importing the same file again changes nothing.';
COMMENT ON COLUMN cdr_file.original_name IS 'The file''s name where it was imported from (the landing-zone copy is raw_path).';
COMMENT ON COLUMN cdr_file.raw_path IS 'The immutable copy in the landing zone, relative to the data directory (raw/cdr/...).';
COMMENT ON COLUMN cdr_file.source_format IS 'asterisk (cdr-csv Master.csv), freeswitch (mod_cdr_csv default template), generic or generic-parquet.';
COMMENT ON COLUMN cdr_file.imported_at IS 'When the file was imported (UTC).';
COMMENT ON COLUMN cdr_file.row_count IS 'Calls the file brought into cdr_call (billable and not billable).';
COMMENT ON COLUMN cdr_file.billable_count IS 'Of those, calls that bill (answered, billsec > 0).';
COMMENT ON COLUMN cdr_file.unbillable_count IS 'Of those, calls kept as not billable (unanswered, busy, failed).';
COMMENT ON COLUMN cdr_file.duplicate_count IS 'Valid calls not added because an earlier file already brought their call_id (counted once).';
COMMENT ON COLUMN cdr_file.reject_count IS 'Rows refused (bad number, time or seconds); reasons in ingest_reject (kind cdr, snapshot_id = file_id).';
COMMENT ON COLUMN cdr_file.first_started_at IS 'Start of the earliest call in the file (UTC).';
COMMENT ON COLUMN cdr_file.last_started_at IS 'Start of the latest call in the file (UTC).';

COMMENT ON TABLE cdr_call IS 'The customer''s calls, one row per call, from imported CDR files; billable false = kept but not billed (unanswered). Key: call_id.';
COMMENT ON COLUMN cdr_call.call_id IS 'The switch''s unique call id (Asterisk uniqueid, FreeSWITCH uuid, the generic call_id column), else <sha256[:16]>:<row number>. Key: a call counts once.';
COMMENT ON COLUMN cdr_call.file_id IS 'The cdr_file that brought the call.';
COMMENT ON COLUMN cdr_call.row_number IS 'Line of the call in its file (1-based; a generic CSV''s header is line 1, a Parquet file''s first row is 1).';
COMMENT ON COLUMN cdr_call.started_at IS 'When the call started (UTC; the switch''s local time converted with cdr.timezone). It is priced as of this moment.';
COMMENT ON COLUMN cdr_call.call_day IS 'UTC date of started_at: the daily partition the call is costed in.';
COMMENT ON COLUMN cdr_call.dialled IS 'The number as the switch sent it (tech prefix included, if it dialled one).';
COMMENT ON COLUMN cdr_call.number IS 'The called number, digits only, without the tech prefix.';
COMMENT ON COLUMN cdr_call.tech_prefix IS 'The call''s route: the configured tech prefix it dialled, else the file''s tech_prefix column, else cdr.default_tech_prefix.';
COMMENT ON COLUMN cdr_call.duration_seconds IS 'Whole call duration in seconds, ringing included (NULL for generic files).';
COMMENT ON COLUMN cdr_call.billsec IS 'Talk seconds, what the carrier bills (before billing increments).';
COMMENT ON COLUMN cdr_call.billable IS 'true when the call bills: Asterisk ANSWERED, FreeSWITCH NORMAL_CLEARING, generic any, each with billsec > 0.';
COMMENT ON COLUMN cdr_call.disposition IS 'The switch''s outcome (Asterisk disposition, FreeSWITCH hangup_cause); NULL for generic files.';

COMMENT ON TABLE cdr_cost IS 'Billable calls costed as of their start time, by the one LPM engine (ratedeck cost, call_cost). A costed day is never re-costed implicitly: only a backfill (recost) replaces it, logged in cdr_costing_log. Key: call_id.';
COMMENT ON COLUMN cdr_cost.call_id IS 'The cdr_call costed. Key.';
COMMENT ON COLUMN cdr_cost.call_day IS 'UTC day of the call: the partition (Dagster cdr_costs) that costed it.';
COMMENT ON COLUMN cdr_cost.started_at IS 'When the call started (UTC): the moment its price is taken at.';
COMMENT ON COLUMN cdr_cost.tech_prefix IS 'The call''s route (cdr_call.tech_prefix).';
COMMENT ON COLUMN cdr_cost.rated_on IS 'The tech prefix whose deck priced the call: the route, or the deck it is an alias of (voice_deck_alias).';
COMMENT ON COLUMN cdr_cost.number IS 'The called number, digits.';
COMMENT ON COLUMN cdr_cost.billsec IS 'Talk seconds (cdr_call.billsec).';
COMMENT ON COLUMN cdr_cost.matched_prefix IS 'The longest prefix valid at started_at; NULL when none matched (cost NULL).';
COMMENT ON COLUMN cdr_cost.destination IS 'The matched prefix''s destination.';
COMMENT ON COLUMN cdr_cost.price IS 'Price per minute of the matched version (exact DECIMAL(18, 8)).';
COMMENT ON COLUMN cdr_cost.initial_seconds IS 'Billing increment a of the matched version (first a seconds minimum).';
COMMENT ON COLUMN cdr_cost.increment_seconds IS 'Billing increment b of the matched version (then b-second steps).';
COMMENT ON COLUMN cdr_cost.billed_seconds IS 'Seconds billed under the increments: 0 for 0, a when billsec <= a, else a + ceil((billsec - a) / b) * b.';
COMMENT ON COLUMN cdr_cost.cost IS 'price x billed_seconds / 60, rounded once half up to cdr_costing_log.cost_decimals places (report.cost_decimals); exact.';
COMMENT ON COLUMN cdr_cost.currency IS 'Currency of the matched version.';
COMMENT ON COLUMN cdr_cost.rate_valid_from IS 'valid_from of the voice_rate version that priced the call.';
COMMENT ON COLUMN cdr_cost.costed_at IS 'When the call was costed (UTC).';
COMMENT ON COLUMN cdr_cost.costing_run IS 'The cdr_costing_log run that costed it.';

COMMENT ON TABLE cdr_costing_log IS 'One row per costing of a day: a first costing, the costing of calls that arrived later, or a recost (backfill) that replaced the day''s costs, with who, why and the day''s total before and after. Key: costing_run.';
COMMENT ON COLUMN cdr_costing_log.costing_run IS 'Run id (cdr_costing_run_seq). Key.';
COMMENT ON COLUMN cdr_costing_log.call_day IS 'The UTC day costed.';
COMMENT ON COLUMN cdr_costing_log.costed_at IS 'When (UTC).';
COMMENT ON COLUMN cdr_costing_log.recost IS 'true: an explicit recost (Dagster backfill, ratedeck cdr cost --recost) replaced every cost of the day; false: only calls not yet costed were costed.';
COMMENT ON COLUMN cdr_costing_log.who IS 'Who asked: the OS user of the CLI, or the Dagster run (and backfill) id.';
COMMENT ON COLUMN cdr_costing_log.why IS 'Why: the --why text, or what triggered the run.';
COMMENT ON COLUMN cdr_costing_log.calls IS 'Calls this run costed.';
COMMENT ON COLUMN cdr_costing_log.unmatched IS 'Of those, calls no prefix matched at their start time (cost NULL).';
COMMENT ON COLUMN cdr_costing_log.cost_decimals IS 'Places the costs were rounded to (report.cost_decimals).';
COMMENT ON COLUMN cdr_costing_log.old_total IS 'The day''s total cost before this run (NULL: the day had never been costed).';
COMMENT ON COLUMN cdr_costing_log.new_total IS 'The day''s total cost after this run.';

-- ingest_reject now also holds refused CDR rows
COMMENT ON TABLE ingest_reject IS 'Rows ingest refused, with the reason, per snapshot or file (voice deck rows, SMS rate rows, CDR rows). Nothing is dropped silently: every refused row is here.';
COMMENT ON COLUMN ingest_reject.kind IS 'voice, sms or cdr.';
COMMENT ON COLUMN ingest_reject.source IS 'Where the row came from: the tech prefix (voice), the SMS channel ''username:id'', or the CDR format (cdr).';
COMMENT ON COLUMN ingest_reject.snapshot_id IS 'The voice_snapshot or sms_snapshot the file was loaded as; for kind cdr, the cdr_file.file_id.';
COMMENT ON COLUMN ingest_reject.fetched_at IS 'When the file was downloaded, or (cdr) landed (UTC).';
COMMENT ON COLUMN ingest_reject.row_number IS 'Where the row is, 1-based: the line of the CSV file or the row of the sheet (header lines count), the position in the SMS JSON list, or the row of a Parquet CDR file.';
COMMENT ON COLUMN ingest_reject.raw IS 'The raw cell values as a JSON object (column header -> text; for a headerless CDR file, column number -> text).';
