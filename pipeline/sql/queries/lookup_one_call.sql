-- One call to one number under one tech prefix at a moment: the longest-prefix match
-- (lpm_rate_at) and the call's billed seconds and cost, rounded once, half up, to $decimals
-- places (reference_call_cost): the macros of sql/macros, which the tests hold equal to the
-- LPM engine. An alias tech prefix is priced on the deck it shares (lpm_rate_at applies
-- voice_deck_of, as CDR costing does). Parameters: $number (as written: lpm_rate_at normalises
-- it, once; its digits again would lose a second leading 00), $tech_prefix, $at, $seconds,
-- $decimals.
-- No row: no prefix of the number has a rate at that moment.
SELECT matched_prefix, destination, price, initial_seconds, increment_seconds,
       lpm_billed_seconds($seconds, initial_seconds, increment_seconds) AS billed_seconds,
       reference_call_cost(price, initial_seconds, increment_seconds, $seconds, $decimals) AS cost,
       currency, valid_from, valid_to
FROM lpm_rate_at($number, $tech_prefix, $at);
