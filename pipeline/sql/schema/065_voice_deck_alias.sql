-- Two tech prefixes serving the very same deck (e.g. "current", which the API documents as the
-- account's default tech prefix, and that default's digits): the deck is loaded once, under the
-- tech prefix that loaded it first, and every other download of the same bytes is recorded
-- here instead of becoming a second, identical history (doubled changes, a meaningless
-- "cheapest").
CREATE TABLE IF NOT EXISTS voice_deck_alias (
    tech_prefix     VARCHAR NOT NULL,      -- the tech prefix whose download was not loaded
    same_as         VARCHAR NOT NULL,      -- the tech prefix whose history holds that deck
    snapshot_id     BIGINT NOT NULL,       -- same_as's snapshot of the same bytes
    fetched_at      TIMESTAMPTZ NOT NULL,  -- when tech_prefix's copy was downloaded
    content_sha256  VARCHAR NOT NULL,      -- sha256 of the raw bytes (equal to the snapshot's)
    raw_path        VARCHAR NOT NULL,      -- tech_prefix's copy in the landing zone
    PRIMARY KEY (tech_prefix, fetched_at)  -- replaying a download records it once
);
