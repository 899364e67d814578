-- The warehouse's own tables and views with their catalog comments (docs/warehouse.md and the
-- test that every one has a comment). One row per relation: kind (view | table), name, comment.
SELECT 'view' AS kind, view_name AS name, comment
FROM duckdb_views()
WHERE NOT internal AND database_name = current_database() AND schema_name = 'main'
UNION ALL
SELECT 'table', table_name, comment
FROM duckdb_tables()
WHERE NOT internal AND database_name = current_database() AND schema_name = 'main'
ORDER BY kind DESC, name;
