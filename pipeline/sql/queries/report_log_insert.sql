-- One delivered (or failed) report. Parameters, in order: status, transport, target,
-- message_id, sender, recipients, subject, change_count, created_at, sent_at, error.
INSERT INTO report_log (report_id, status, transport, target, message_id, sender, recipients,
                        subject, change_count, created_at, sent_at, error)
VALUES (nextval('report_id_seq'), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
RETURNING report_id
