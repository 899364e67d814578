-- Account balance snapshots and the low-balance alert log. Contract names (docs/analysts.md
-- "Warehouse"): balance_snapshot (views balance_daily, balance_runway in sql/views).

CREATE TABLE IF NOT EXISTS balance_snapshot (
    snapshot_id       BIGINT PRIMARY KEY,       -- from snapshot_id_seq
    fetched_at        TIMESTAMPTZ NOT NULL UNIQUE,  -- replaying the same fetch is a no-op
    loaded_at         TIMESTAMPTZ NOT NULL,
    email             VARCHAR NOT NULL,
    balance           DECIMAL(18, 8) NOT NULL,
    sms_balance       DECIMAL(18, 8) NOT NULL,
    temporary_credit  DECIMAL(18, 8) NOT NULL,
    content_sha256    VARCHAR NOT NULL,         -- sha256 of the raw /customer JSON
    raw_path          VARCHAR NOT NULL          -- landing-zone file, relative to the data dir
);

-- One row per downward crossing of the low-balance threshold (balance goes from
-- >= threshold, or no earlier snapshot, to < threshold). The email for a crossing is sent
-- once: sent_at is set on success; a failed attempt leaves it NULL and is retried next run.
CREATE TABLE IF NOT EXISTS balance_alert_log (
    email                 VARCHAR NOT NULL,
    crossing_snapshot_id  BIGINT NOT NULL,      -- first snapshot below the threshold
    crossed_at            TIMESTAMPTZ NOT NULL, -- its fetched_at
    balance               DECIMAL(18, 8) NOT NULL,  -- balance at the crossing
    threshold             DECIMAL(18, 8) NOT NULL,
    detected_at           TIMESTAMPTZ NOT NULL,
    attempts              INTEGER NOT NULL,
    sent_at               TIMESTAMPTZ,          -- NULL until delivered
    delivery              VARCHAR,              -- how it went out: 'smtp ...' or the .eml path
    last_error            VARCHAR,              -- one line, the last failed attempt
    PRIMARY KEY (email, crossing_snapshot_id)
);
