-- cdr_call and carrier_call lose their keys (PRIMARY KEY call_id; cdr_call's UNIQUE (file_id,
-- row_number)), as cdr_cost did in 100_cdr_cost_no_key.sql. DuckDB kept an ART index of every
-- call id ever imported: with random ids (FreeSWITCH's uuid) it took 7 times the table's own
-- size (8M calls: 1,478 MB against 200 MB) and an import's insert and checkpoint grew with it
-- (3.2 s per 1M calls on the first day, 5.9 s after 7M; 0.7 s flat without; a year at 1M calls
-- a day: about 70 GB of index in each of the two warehouse files). Nothing looks a call up by
-- call_id alone: the import looks for the calls a file repeats on its own days
-- (cdr_call_insert.sql, carrier_call_insert.sql), and everything else joins a day's calls.
-- A call is now its call_id on its call_day, unique together by construction: the import
-- leaves out an id stored within a day of the file's days, and one repeated on the same day in
-- the file; an id repeated further away is another call (a switch that reuses its ids). The
-- tables are rebuilt (DuckDB cannot drop a key), rows in file order, comments re-applied;
-- cdr_cost's comments say the same identity.
ALTER TABLE cdr_call RENAME TO cdr_call_keyed;

CREATE TABLE cdr_call (
    call_id          VARCHAR NOT NULL,          -- with call_day, the call (see above)
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
    disposition      VARCHAR
);

INSERT INTO cdr_call SELECT * FROM cdr_call_keyed ORDER BY file_id, row_number;

DROP TABLE cdr_call_keyed;

ALTER TABLE carrier_call RENAME TO carrier_call_keyed;

CREATE TABLE carrier_call (
    call_id        VARCHAR NOT NULL,            -- with call_day, the call (see above)
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

INSERT INTO carrier_call SELECT * FROM carrier_call_keyed ORDER BY file_id, row_number;

DROP TABLE carrier_call_keyed;

COMMENT ON TABLE cdr_call IS 'The customer''s calls, one row per call, from imported CDR files; billable false = kept but not billed (unanswered). A call is its call_id on its call_day: unique together (kept so by the import, not by an index).';
COMMENT ON COLUMN cdr_call.call_id IS 'The switch''s call id (Asterisk uniqueid, FreeSWITCH uuid, the generic call_id column), else <sha256[:16]>:<row number>. Unique per call_day: an id already stored for a call within a day of an imported one is the same call and counts once (docs/cdr.md#formats).';
COMMENT ON COLUMN cdr_call.file_id IS 'The cdr_file that brought the call.';
COMMENT ON COLUMN cdr_call.row_number IS 'Line of the call in its file (1-based; a generic CSV''s header is line 1, a Parquet file''s first row is 1).';
COMMENT ON COLUMN cdr_call.started_at IS 'When the call started (UTC; the switch''s local time converted with cdr.timezone). It is priced as of this moment.';
COMMENT ON COLUMN cdr_call.call_day IS 'UTC date of started_at: the daily partition the call is costed in; with call_id, the call''s identity.';
COMMENT ON COLUMN cdr_call.dialled IS 'The number as the switch sent it (tech prefix included, if it dialled one).';
COMMENT ON COLUMN cdr_call.number IS 'The called number, digits only, without the tech prefix.';
COMMENT ON COLUMN cdr_call.tech_prefix IS 'The call''s route: the configured tech prefix it dialled, else the file''s tech_prefix column, else cdr.default_tech_prefix.';
COMMENT ON COLUMN cdr_call.duration_seconds IS 'Whole call duration in seconds, ringing included (NULL for generic files).';
COMMENT ON COLUMN cdr_call.billsec IS 'Talk seconds, what the carrier bills (before billing increments).';
COMMENT ON COLUMN cdr_call.billable IS 'true when the call bills: Asterisk disposition ANSWERED and billsec > 0; FreeSWITCH billsec > 0 (answered), whatever the hangup cause (before migration 099: NORMAL_CLEARING only); generic seconds > 0.';
COMMENT ON COLUMN cdr_call.disposition IS 'The switch''s outcome (Asterisk disposition, FreeSWITCH hangup_cause); NULL for generic files.';

COMMENT ON TABLE carrier_call IS 'The calls the carrier says it billed, one row per call, from its own exports (columns mapped by reconcile.columns). A call is its call_id on its call_day: unique together (kept so by the import, not by an index).';
COMMENT ON COLUMN carrier_call.call_id IS 'The carrier''s id of the call. Unique per call_day: an id already stored for a call within a day of an imported one is the same call and counts once across overlapping exports.';
COMMENT ON COLUMN carrier_call.file_id IS 'The carrier_file that brought the call.';
COMMENT ON COLUMN carrier_call.row_number IS 'Line of the call in its file (the header is line 1).';
COMMENT ON COLUMN carrier_call.started_at IS 'When the call started, as the carrier logged it (UTC).';
COMMENT ON COLUMN carrier_call.call_day IS 'UTC date of started_at; with call_id, the call''s identity.';
COMMENT ON COLUMN carrier_call.tech_prefix IS 'The tech prefix the carrier billed on; current when the export names none (the account''s default plan).';
COMMENT ON COLUMN carrier_call.number IS 'The called number, digits, without the tech prefix.';
COMMENT ON COLUMN carrier_call.destination IS 'The carrier''s destination name of the deck row that billed it.';
COMMENT ON COLUMN carrier_call.prefix IS 'The deck prefix that billed it (the carrier''s longest prefix match).';
COMMENT ON COLUMN carrier_call.seconds IS 'Seconds the carrier measured (compare cdr_call.billsec).';
COMMENT ON COLUMN carrier_call.billed_seconds IS 'Seconds the carrier billed after its increments.';
COMMENT ON COLUMN carrier_call.rate IS 'Price per minute the carrier applied (exact).';
COMMENT ON COLUMN carrier_call.cost IS 'What the carrier charged for the call (exact).';
COMMENT ON COLUMN carrier_call.currency IS 'Currency of rate and cost.';

COMMENT ON TABLE cdr_cost IS 'Billable calls costed as of their start time, by the one LPM engine (ratedeck cost, call_cost). A costed day is never re-costed implicitly: only a backfill (recost) replaces it, logged in cdr_costing_log. One row per call (its call_id on its call_day; kept unique by the costing, not by an index).';
COMMENT ON COLUMN cdr_cost.call_id IS 'The cdr_call costed: with call_day, the call. Unique per call_day: a call is costed once (the costing adds only calls of the day not costed yet); not a declared key.';
COMMENT ON COLUMN cdr_cost.call_day IS 'UTC day of the call: the partition (Dagster cdr_costs) that costed it; with call_id, the call.';
