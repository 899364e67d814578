-- Announced (future-dated) changes that have not taken effect yet, soonest first, with the
-- notice the carrier gave (days between first seeing it and its effective date).
SELECT tech_prefix, prefix, change_type, coalesce(new_destination, old_destination) AS destination,
       old_price, new_price, price_change_pct, changed_at AS takes_effect_at,
       announced_at, notice_days
FROM voice_rate_change
WHERE changed_at > current_timestamp
  AND change_type <> 'withdrawn'
  AND withdrawn_at IS NULL  -- announced, then taken back by the carrier
ORDER BY changed_at, tech_prefix, prefix;
