-- The deck of one tech prefix as it stood (or is scheduled to stand) at a moment.
-- Params: at (TIMESTAMPTZ), tech_prefix.
SELECT prefix, destination, price, initial_seconds, increment_seconds, currency,
       effective_at, valid_from, valid_to
FROM voice_rate_at(?::TIMESTAMPTZ)
WHERE tech_prefix = ?
ORDER BY prefix;
