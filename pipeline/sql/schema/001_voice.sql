-- Voice rate history. Contract names: voice_snapshot, voice_rate,
-- ingest_reject. Times are TIMESTAMPTZ (UTC), prices DECIMAL(18,8), prefixes text.

CREATE SEQUENCE IF NOT EXISTS snapshot_id_seq START 1;

CREATE TABLE IF NOT EXISTS voice_snapshot (
    snapshot_id      BIGINT PRIMARY KEY,
    tech_prefix      VARCHAR NOT NULL,
    fetched_at       TIMESTAMPTZ NOT NULL,      -- when the deck was downloaded
    loaded_at        TIMESTAMPTZ NOT NULL,      -- when this row was written
    content_sha256   VARCHAR NOT NULL,          -- sha256 of the raw bytes
    raw_path         VARCHAR NOT NULL,          -- landing-zone file, relative to the data dir
    source_format    VARCHAR NOT NULL,          -- csv | xls | xlsx
    row_count        INTEGER NOT NULL,          -- canonical rows in the deck
    reject_count     INTEGER NOT NULL,          -- rows refused (see ingest_reject)
    rates_opened     INTEGER NOT NULL,          -- voice_rate rows this snapshot added
    rates_closed     INTEGER NOT NULL,          -- in-force voice_rate rows it ended (changed or gone)
    rates_withdrawn  INTEGER NOT NULL DEFAULT 0, -- scheduled rows it withdrew before their date
    rates_unchanged  INTEGER NOT NULL DEFAULT 0, -- stored rows the deck confirmed as they were
    has_effective_dates BOOLEAN NOT NULL DEFAULT false,
    UNIQUE (tech_prefix, fetched_at, content_sha256)   -- replaying a raw file is a no-op
);

-- One row per version of a prefix's rate. A version is valid on [valid_from, valid_to);
-- valid_to IS NULL while it is open-ended. A scheduled (future-dated) version has
-- valid_from in the future; one withdrawn before it took effect keeps its row with
-- withdrawn_at set and valid_to = valid_from (an empty interval no as-of read can hit).
CREATE TABLE IF NOT EXISTS voice_rate (
    tech_prefix        VARCHAR NOT NULL,
    prefix             VARCHAR NOT NULL,
    destination        VARCHAR NOT NULL,
    price              DECIMAL(18, 8) NOT NULL,
    initial_seconds    INTEGER NOT NULL,
    increment_seconds  INTEGER NOT NULL,
    currency           VARCHAR,
    effective_at       TIMESTAMPTZ,             -- the carrier's effective date, if the deck has one
    valid_from         TIMESTAMPTZ NOT NULL,
    valid_to           TIMESTAMPTZ,
    first_seen_at      TIMESTAMPTZ NOT NULL,    -- fetched_at of the first snapshot that carried it
    first_snapshot_id  BIGINT NOT NULL,
    closed_snapshot_id BIGINT,                  -- snapshot that ended (or withdrew) it
    withdrawn_at       TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS voice_rate_tp_prefix ON voice_rate (tech_prefix, prefix);

CREATE TABLE IF NOT EXISTS ingest_reject (
    kind            VARCHAR NOT NULL,           -- voice | sms
    source          VARCHAR NOT NULL,           -- tech prefix, or SMS channel username:id
    snapshot_id     BIGINT NOT NULL,
    fetched_at      TIMESTAMPTZ NOT NULL,
    content_sha256  VARCHAR NOT NULL,
    row_number      BIGINT NOT NULL,
    sheet           VARCHAR,
    raw             VARCHAR NOT NULL,           -- JSON object of the raw cell values
    reason          VARCHAR NOT NULL
);
