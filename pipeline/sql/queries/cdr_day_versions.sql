-- The rate versions (every tech prefix) in force at some moment of one UTC day: all that
-- costing the day's calls can use, each call taking the version valid at its own start.
-- Costing reads them once, into memory, with the day's calls; the same rows, hashed, tell
-- the commit whether the prices changed since (cdr_day_inputs). Params: $day_start,
-- $day_end (TIMESTAMPTZ, the day's [start, end)).
SELECT *
FROM voice_rate
WHERE valid_from < $day_end AND (valid_to IS NULL OR valid_to > $day_start)
ORDER BY tech_prefix, prefix, valid_from;
