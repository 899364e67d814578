-- cdr_cost loses its PRIMARY KEY on call_id. DuckDB kept an ART index of every call id: a
-- day's first costing spent 1.7 s of 2 s per 1M calls inserting into it and committing it
-- (0.6 s without), and the index grew with every day of history (a year at 1M calls a day:
-- 365M keys). Nothing looks a cost up by call_id; the joins are hash joins. call_id stays
-- unique by construction: a call belongs to one day (cdr_call.call_day), a costing adds only
-- the day's calls not costed yet (cdr_cost_insert.sql) and refuses staged rows that repeat
-- one (warehouse/cdr.py), under the writer lock. The table is rebuilt (DuckDB cannot drop a
-- primary key), its rows in day order, its comments re-applied.
ALTER TABLE cdr_cost RENAME TO cdr_cost_keyed;

CREATE TABLE cdr_cost (
    call_id           VARCHAR NOT NULL,         -- unique by construction (see above)
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

INSERT INTO cdr_cost SELECT * FROM cdr_cost_keyed ORDER BY call_day, started_at, call_id;

DROP TABLE cdr_cost_keyed;

COMMENT ON TABLE cdr_cost IS 'Billable calls costed as of their start time, by the one LPM engine (ratedeck cost, call_cost). A costed day is never re-costed implicitly: only a backfill (recost) replaces it, logged in cdr_costing_log. One row per call_id (kept unique by the costing, not by an index).';
COMMENT ON COLUMN cdr_cost.call_id IS 'The cdr_call costed. Unique: a call is costed once (the costing adds only calls of the day not costed yet, and a call belongs to one day); not a declared key.';
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
