-- The staged rows of a day's costing (registered as cdr_staged): calls, and those no prefix
-- matched (NULL cost).
SELECT count(*) AS calls, count(*) - count(cost) AS unmatched
FROM cdr_staged;
