-- Records an email about to be delivered. Parameters, in order: name, purpose, message_id,
-- mail_from, rcpt_to, subject, message, created_at.
INSERT INTO pending_delivery (name, purpose, message_id, mail_from, rcpt_to, subject, message,
                              created_at, attempts, last_error)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, NULL)
