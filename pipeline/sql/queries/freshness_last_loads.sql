-- When each feed last loaded: the fetched_at of the newest snapshot of each voice tech prefix
-- (a download recorded as an alias of another tech prefix's identical deck counts: it loaded),
-- of each SMS channel, and of the balance. A feed that never loaded has no row.
SELECT 'voice' AS feed, tech_prefix AS source, max(fetched_at) AS last_loaded_at
FROM (
    SELECT tech_prefix, fetched_at FROM voice_snapshot
    UNION ALL
    SELECT tech_prefix, fetched_at FROM voice_deck_alias
)
GROUP BY tech_prefix
UNION ALL
SELECT 'sms', channel, max(fetched_at) FROM sms_snapshot GROUP BY channel
UNION ALL
SELECT 'balance', 'balance', max(fetched_at) FROM balance_snapshot HAVING count(*) > 0;
