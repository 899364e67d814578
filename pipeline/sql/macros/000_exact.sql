-- Exact decimal helpers. DuckDB divides DECIMALs into DOUBLE; money must not pass through
-- floating point, so these divide scaled integers and round half away from zero.

-- a / b for integers (HUGEINT), rounded half away from zero. b must be > 0.
CREATE OR REPLACE MACRO div_round_half_up(a, b) AS
    CASE WHEN a >= 0 THEN (a * 2 + b) // (b * 2)
         ELSE -((-a * 2 + b) // (b * 2)) END;
COMMENT ON MACRO div_round_half_up IS 'div_round_half_up(a, b): integer a / b (HUGEINT, b > 0) rounded half away from zero; exact money arithmetic without DOUBLE.';

-- Percentage change old -> new, exact, 4 decimal places; NULL when old is NULL or 0.
CREATE OR REPLACE MACRO exact_pct_change(old_value, new_value) AS
    CASE WHEN old_value IS NULL OR new_value IS NULL OR old_value = 0 THEN NULL
         ELSE CAST(div_round_half_up(
                  CAST(CAST(new_value - old_value AS DECIMAL(38, 8)) * 100000000 AS HUGEINT) * 1000000,
                  CAST(CAST(old_value AS DECIMAL(38, 8)) * 100000000 AS HUGEINT)) AS DECIMAL(18, 0))
              * CAST(0.0001 AS DECIMAL(5, 4)) END;
COMMENT ON MACRO exact_pct_change IS 'exact_pct_change(old, new): percentage change old -> new, exact, 4 decimals, half up; NULL when either is NULL or old is 0.';

-- The decimal places a DECIMAL(18, 8) amount shows, trailing zeros aside: 0.0327 is 4.
CREATE OR REPLACE MACRO decimal_places(amount) AS
    CASE WHEN amount = round(amount, 0) THEN 0 WHEN amount = round(amount, 1) THEN 1
         WHEN amount = round(amount, 2) THEN 2 WHEN amount = round(amount, 3) THEN 3
         WHEN amount = round(amount, 4) THEN 4 WHEN amount = round(amount, 5) THEN 5
         WHEN amount = round(amount, 6) THEN 6 WHEN amount = round(amount, 7) THEN 7
         ELSE 8 END;
COMMENT ON MACRO decimal_places IS 'decimal_places(amount): the decimal places a DECIMAL amount of at most 8 places shows, trailing zeros aside (0.032700 is 4, 1.0 is 0), exact.';

-- Whether a call's cost is its price for its billed seconds, rounded at `places`: less than
-- one unit of that place from price x billed_seconds / 60 either way, whatever the rounding
-- rule (half up, half even, up or down). Exact: both sides times 60 and 10^places.
CREATE OR REPLACE MACRO cost_within_rounding(cost, price, billed_seconds, places) AS
    abs(CAST(cost AS DECIMAL(38, 8)) * 60 - CAST(price AS DECIMAL(38, 8)) * billed_seconds)
        * [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000][places + 1] < 60;
COMMENT ON MACRO cost_within_rounding IS 'cost_within_rounding(cost, price, billed_seconds, places): true when cost is price x billed_seconds / 60 (price per minute) rounded any way at places decimals (0..8): less than one unit of that place from it, exact.';
