-- The rejects of a file (the registered relation rejects_incoming: row_number, raw) that an
-- earlier import already refused: the same raw record at the same row number, of the same
-- format, already in ingest_reject as an ingest reject (a conflict's raw is the call as read,
-- never a record's fields). A grown append-only file keeps its rows where they were, so its
-- earlier bad rows are these (docs/cdr.md#bad-rows). Params: $kind, $source.
SELECT DISTINCT i.row_number
FROM rejects_incoming i
JOIN ingest_reject r
  ON r.kind = $kind AND r.source = $source AND r.row_number = i.row_number AND r.raw = i.raw;
