-- Versions of one tech prefix stored without a currency (loaded before the loader filled in
-- the account's currency for decks that name none) get it. Parameters: currency, tech_prefix.
-- Only NULL is filled: a currency a deck named is never changed.
UPDATE voice_rate SET currency = ?
WHERE tech_prefix = ? AND currency IS NULL;
