-- Pending deliveries of one purpose, oldest first. Parameter: the purpose.
SELECT name, purpose, message_id, mail_from, rcpt_to, subject, message, created_at,
       attempts,
       (SELECT count(*) FROM pending_delivery_change c WHERE c.name = p.name) AS change_count
FROM pending_delivery p
WHERE purpose = ?
ORDER BY created_at, name
