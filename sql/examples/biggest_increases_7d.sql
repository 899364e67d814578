-- The biggest price increases that took effect in the last 7 days, every tech prefix.
-- Parameters (optional, set first), shown with their defaults:
--   SET VARIABLE top_n = 20;
SELECT tech_prefix, prefix, new_destination AS destination,
       old_price, new_price, price_change, price_change_pct, changed_at
FROM voice_rate_change
WHERE change_type = 'increase'
  AND withdrawn_at IS NULL  -- announced, then taken back: never took effect
  AND changed_at >= current_timestamp - INTERVAL 7 DAY
  AND changed_at <= current_timestamp
ORDER BY price_change_pct DESC, tech_prefix, prefix
LIMIT coalesce(getvariable('top_n'), 20);
