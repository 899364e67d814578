-- The reference call: how the finance email judges up/down, and voice_rate_change's
-- reference-call columns. ONE definition, used by both (sql/views/010_voice.sql and
-- sql/queries/report_voice_changes.sql).

-- Cost of a call of `seconds` at `price` per minute with increments a/b, rounded once, half
-- up, to `decimals` places (0..8), exact (integers inside). NULL when price is NULL.
CREATE OR REPLACE MACRO reference_call_cost(price, a, b, seconds, decimals) AS
    CASE WHEN price IS NULL THEN NULL
         ELSE CAST(CAST(div_round_half_up(
                  CAST(CAST(price AS DECIMAL(38, 8)) * 100000000 AS HUGEINT)
                      * lpm_billed_seconds(seconds, a, b)
                      * CAST('1' || repeat('0', decimals) AS HUGEINT),
                  CAST(6000000000 AS HUGEINT))
              * CAST('1' || repeat('0', 8 - decimals) AS HUGEINT) AS DECIMAL(38, 0))
              * CAST(0.00000001 AS DECIMAL(9, 8)) AS DECIMAL(18, 8)) END;
COMMENT ON MACRO reference_call_cost IS 'reference_call_cost(price, a, b, seconds, decimals): cost of a seconds-long call at price per minute with increments a/b, rounded once half up to decimals (0..8), exact; NULL when price is NULL.';

-- How a change moves the bill, as the email counts it: price and billing changes follow the
-- reference call (so 1/1 -> 60/60 is 'up'); one too small to move the rounded call cost
-- follows the price ('billing' when only the increments changed); other change types are
-- themselves (new, removed, renamed, withdrawn).
CREATE OR REPLACE MACRO reference_call_direction(change_type, old_cost, new_cost) AS
    CASE WHEN change_type NOT IN ('increase', 'decrease', 'increment_change') THEN change_type
         WHEN new_cost > old_cost THEN 'up'
         WHEN new_cost < old_cost THEN 'down'
         WHEN change_type = 'increase' THEN 'up'
         WHEN change_type = 'decrease' THEN 'down'
         ELSE 'billing' END;
COMMENT ON MACRO reference_call_direction IS 'reference_call_direction(change_type, old_cost, new_cost): the finance email''s category of a change: up | down | billing for price and increment changes (by the reference call cost, else the price), otherwise change_type itself.';
