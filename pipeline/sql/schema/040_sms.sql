-- SMS rate history and the MCC/MNC reference. Contract names:
-- sms_snapshot, sms_rate, mcc_mnc. Times TIMESTAMPTZ (UTC), rates DECIMAL(18,8).

-- Reference: one row per published (mcc, mnc) text pair, loaded from data/reference/mcc_mnc.csv
-- by pipeline.warehouse.sms.ensure_reference (reloaded whenever the CSV's sha256 changes).
-- The API gives integers, so look pairs up with:
--   mcc_int = <mcc> AND mnc_int = <mnc> AND preferred
-- (exactly one preferred row per integer pair; ambiguous flags pairs the sources disagree on).
CREATE TABLE IF NOT EXISTS mcc_mnc (
    mcc        VARCHAR NOT NULL,        -- 3 digits as published, e.g. '001'
    mnc        VARCHAR NOT NULL,        -- 2 or 3 digits as published: '01' and '001' differ
    mcc_int    INTEGER NOT NULL,
    mnc_int    INTEGER NOT NULL,
    iso        VARCHAR NOT NULL,        -- ISO 3166-1 alpha-2, upper case; '' when none
    country    VARCHAR NOT NULL,
    network    VARCHAR NOT NULL,        -- brand, else operator
    brand      VARCHAR NOT NULL,
    operator   VARCHAR NOT NULL,
    status     VARCHAR NOT NULL,        -- Operational | Not operational | ... ('' = unknown)
    source     VARCHAR NOT NULL,        -- wikipedia | mcc-mnc.com
    preferred  BOOLEAN NOT NULL,        -- the row an integer (mcc, mnc) from the API maps to
    ambiguous  BOOLEAN NOT NULL         -- the sources disagree about this pair
);

-- Which version of each committed reference file is loaded (keyed by the file's sha256).
CREATE TABLE IF NOT EXISTS reference_load (
    name            VARCHAR PRIMARY KEY,    -- e.g. 'mcc_mnc'
    content_sha256  VARCHAR NOT NULL,
    row_count       INTEGER NOT NULL,
    loaded_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS sms_snapshot (
    snapshot_id      BIGINT PRIMARY KEY,    -- from snapshot_id_seq (shared with voice)
    channel          VARCHAR NOT NULL,      -- SMS channel "username:id"
    fetched_at       TIMESTAMPTZ NOT NULL,
    loaded_at        TIMESTAMPTZ NOT NULL,
    content_sha256   VARCHAR NOT NULL,      -- sha256 of the raw JSON bytes
    raw_path         VARCHAR NOT NULL,      -- landing-zone file, relative to the data dir
    row_count        INTEGER NOT NULL,      -- canonical rows in the list
    reject_count     INTEGER NOT NULL,      -- rows refused (see ingest_reject, kind 'sms')
    unknown_count    INTEGER NOT NULL,      -- rows whose (mcc, mnc) is not in mcc_mnc
    rates_opened     INTEGER NOT NULL,      -- sms_rate rows this snapshot added
    rates_closed     INTEGER NOT NULL,      -- sms_rate rows this snapshot ended
    UNIQUE (channel, fetched_at, content_sha256)   -- replaying a raw file is a no-op
);

-- One row per version of a channel's rate for an (mcc, mnc), valid on [valid_from, valid_to).
-- country/network come from mcc_mnc at load time; known = false for a pair mcc_mnc lacks
-- (kept and flagged, never dropped).
CREATE TABLE IF NOT EXISTS sms_rate (
    channel            VARCHAR NOT NULL,
    mcc                INTEGER NOT NULL,
    mnc                INTEGER NOT NULL,
    rate               DECIMAL(18, 8) NOT NULL,
    country            VARCHAR,
    network            VARCHAR,
    known              BOOLEAN NOT NULL,
    valid_from         TIMESTAMPTZ NOT NULL,
    valid_to           TIMESTAMPTZ,
    first_seen_at      TIMESTAMPTZ NOT NULL,
    first_snapshot_id  BIGINT NOT NULL,
    closed_snapshot_id BIGINT,
    withdrawn_at       TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS sms_rate_channel_pair ON sms_rate (channel, mcc, mnc);
