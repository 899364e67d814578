-- Emails whose delivery has begun but is not yet recorded as done (pipeline.notify.pending).
-- A row is committed BEFORE the SMTP transaction (or the .eml write) and removed in the same
-- transaction that records the delivery (report_log/report_change, balance_alert_log). A row
-- still here on the next run means the last attempt may have reached the server: that exact
-- message (same bytes, same Message-ID) is sent again before anything new, so a crash between
-- the server's "250 OK" and the ledger commit gives at most a byte-identical duplicate.

CREATE TABLE IF NOT EXISTS pending_delivery (
    name         VARCHAR PRIMARY KEY,   -- the delivery's identity, also its outbox file name:
                                        -- ratedeck-report-<digest>, low-balance-<crossing>
    purpose      VARCHAR NOT NULL,      -- report | low-balance
    message_id   VARCHAR NOT NULL UNIQUE,
    mail_from    VARCHAR NOT NULL,      -- SMTP envelope
    rcpt_to      VARCHAR[] NOT NULL,
    subject      VARCHAR NOT NULL,
    message      BLOB NOT NULL,         -- the exact bytes handed to the server / written
    created_at   TIMESTAMPTZ NOT NULL,
    attempts     INTEGER NOT NULL,      -- deliveries begun for this message
    last_error   VARCHAR                -- one line, secrets scrubbed
);

-- The changes a pending report covers: a change is in at most one pending message, and a
-- change pending here is never put in a new report (the pending message is resent instead).
CREATE TABLE IF NOT EXISTS pending_delivery_change (
    kind       VARCHAR NOT NULL,
    change_id  VARCHAR NOT NULL,
    name       VARCHAR NOT NULL,        -- pending_delivery.name
    PRIMARY KEY (kind, change_id)
);
