-- Which ratedeck applied each migration (and put the views and macros in place), so that an
-- older ratedeck refusing a warehouse a newer one migrated can name the version it needs
-- (pipeline/warehouse/migrate.py). Rows recorded before this migration keep NULL.
ALTER TABLE schema_migration ADD COLUMN ratedeck_version VARCHAR;
COMMENT ON COLUMN schema_migration.ratedeck_version IS 'The ratedeck version (its package version, ratedeck --version) that applied this migration or put these views and macros in place. NULL: recorded before 0.2.0 kept it.';
