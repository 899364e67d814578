-- The columns of the warehouse's own tables and views with their catalog comments, in table
-- order: relation, name, data_type, comment.
SELECT table_name AS relation, column_name AS name, data_type, comment
FROM duckdb_columns()
WHERE NOT internal AND database_name = current_database() AND schema_name = 'main'
ORDER BY table_name, column_index;
