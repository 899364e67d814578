-- cdr_file.duplicate_count and carrier_file.duplicate_count are re-commented: 090 and 095 said
-- they counted calls an earlier file (export) already brought, but since 101 a call is its
-- call_id on its UTC day, and the count (cdr_file_insert.sql, carrier_file_insert.sql: valid
-- rows minus rows added) also holds a call repeated on its day earlier in the same file.
COMMENT ON COLUMN cdr_file.duplicate_count IS 'Valid calls not added because the call was already there: its call_id repeated on the same UTC day earlier in this file, or already stored for a call within a day of it (docs/cdr.md#formats). An id seen again days later is another call, and is added.';
COMMENT ON COLUMN carrier_file.duplicate_count IS 'Valid rows not added because the call was already there: its call id repeated on the same UTC day earlier in this export, or already stored for a call within a day of it (an overlapping export). An id seen again days later is another call, and is added.';
