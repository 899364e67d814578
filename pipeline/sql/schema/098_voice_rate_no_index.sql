-- voice_rate loses its ART index on (tech_prefix, prefix). DuckDB does not use it to answer
-- "WHERE tech_prefix = ? AND prefix = ?" (a scan of 1M rows took 2.2 ms, with the index 3.0 ms)
-- nor the history's joins (hash joins), but it kept a second copy of every key: the file was
-- 4-6x larger (76 MB against 18 MB for 20 decks of 50k), and every load and checkpoint
-- maintained it (docs/benchmarks.md).
DROP INDEX IF EXISTS voice_rate_tp_prefix;
