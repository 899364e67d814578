-- When each tech prefix's rate history starts: the earliest valid_from of a version that was
-- not withdrawn. A moment before it has no price because nothing was downloaded yet, which is
-- worth saying apart from "no prefix matches". Parameter: list of tech prefixes.
SELECT tech_prefix, min(valid_from) AS starts
FROM voice_rate
WHERE withdrawn_at IS NULL AND list_contains(?, tech_prefix)
GROUP BY tech_prefix;
