-- feature_store: an ML feature store inside PostgreSQL.
--
-- This directory holds the current definition of every object, each in
-- exactly one file (see README "Development"):
--   install/*.sql  objects created once, at CREATE EXTENSION: schemas, types,
--                  operators, tables, policies.  A later change to one of
--                  them is also written as a step in updates/.
--   *.sql          functions, aggregates, views, triggers by topic, written
--                  with CREATE OR REPLACE: the install script runs them after
--                  install/, and every upgrade script runs them again after
--                  its hand-written step, so they are never copied.
--   releases/      released scripts, frozen (a test checks their checksums).
--   updates/       the hand-written step of each upgrade, A--B.sql.

COMMENT ON SCHEMA fs IS 'feature_store: entities, feature views, online and offline feature stores';
GRANT USAGE ON SCHEMA fs TO PUBLIC;

CREATE SCHEMA fs_data;
COMMENT ON SCHEMA fs_data IS 'feature_store storage: one history and one online table per feature view version';
GRANT USAGE, CREATE ON SCHEMA fs_data TO PUBLIC;

CREATE SCHEMA fs_internal;
COMMENT ON SCHEMA fs_internal IS 'feature_store internals: type support and helper functions (not a user API)';
GRANT USAGE ON SCHEMA fs_internal TO PUBLIC;
