-- The warehouse's own macros (each overload a row) with their catalog comments: name, kind
-- (macro | table_macro), parameters (comma-separated), comment.
SELECT function_name AS name, function_type AS kind,
       array_to_string(parameters, ', ') AS parameters, comment
FROM duckdb_functions()
WHERE NOT internal AND database_name = current_database() AND schema_name = 'main'
ORDER BY name, len(parameters);
