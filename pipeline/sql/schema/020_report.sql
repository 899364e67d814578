-- Price-change reports: what was sent to whom, for which changes.
-- A report and its change rows are written in ONE transaction after the email was handed to
-- the SMTP server (or the .eml written), so a failed send leaves its changes unreported and
-- the next run retries them. report_change's primary key makes "reported twice" impossible.

CREATE SEQUENCE IF NOT EXISTS report_id_seq START 1;

CREATE TABLE IF NOT EXISTS report_log (
    report_id      BIGINT PRIMARY KEY,
    created_at     TIMESTAMPTZ NOT NULL,     -- when the report was built
    sent_at        TIMESTAMPTZ,              -- when the server accepted it / the .eml was written
    status         VARCHAR NOT NULL,         -- sent | outboxed | failed
    transport      VARCHAR NOT NULL,         -- smtp | outbox
    target         VARCHAR NOT NULL,         -- smtp://host:port, or the .eml path
    message_id     VARCHAR NOT NULL,         -- RFC 5322 Message-ID; the same change set gives
                                             -- the same id, so a resend after a crash dedupes
    sender         VARCHAR NOT NULL,
    recipients     VARCHAR[] NOT NULL,
    subject        VARCHAR NOT NULL,
    change_count   INTEGER NOT NULL,
    error          VARCHAR                   -- one line, for status = failed (never a secret)
);

CREATE TABLE IF NOT EXISTS report_change (
    kind       VARCHAR NOT NULL,             -- voice (sms later): which *_rate_change view
    change_id  VARCHAR NOT NULL,             -- voice_rate_change.change_id
    report_id  BIGINT NOT NULL,
    PRIMARY KEY (kind, change_id)
);
