-- The widest window around the span [$start, $end] in which the versions lpm_versions returns
-- stay the same (pipeline/analytics/_engine_cache.py): from the last valid_to at or before
-- $start (NULL: since always) to the first valid_from after $end (NULL: for ever), that
-- moment excluded. A version ending inside the window would end within the span's past, one
-- starting inside it would start after the span: neither exists, by construction.
SELECT max(valid_to) FILTER (WHERE valid_to <= $start::TIMESTAMPTZ) AS window_start,
       min(valid_from) FILTER (WHERE valid_from > $end::TIMESTAMPTZ) AS window_end
FROM voice_rate
WHERE tech_prefix = $tech_prefix
  AND (valid_to IS NULL OR valid_to > valid_from);
