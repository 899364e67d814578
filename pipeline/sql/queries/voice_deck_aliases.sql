-- Every alias tech prefix and the deck it is priced on (voice_deck_aliases(),
-- macros/050_voice_deck.sql), for ratedeck lookup and cost (pipeline/analytics/one_call.py).
SELECT tech_prefix, same_as FROM voice_deck_aliases() ORDER BY tech_prefix;
