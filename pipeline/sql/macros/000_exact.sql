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
