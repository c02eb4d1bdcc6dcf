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

-- Install only into a schema "fs" that this CREATE EXTENSION created, or
-- that the installing role owns and that holds nothing: a schema prepared by
-- another role could already hold functions that shadow ours (a database
-- owner's fs.online_features(text[], bigint[]) would run for superusers).
DO $$
DECLARE
	owner regrole;
BEGIN
	SELECT n.nspowner::regrole INTO owner FROM pg_catalog.pg_namespace n WHERE n.nspname = 'fs';
	IF owner IS DISTINCT FROM (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user)::regrole THEN
		RAISE EXCEPTION 'schema "fs" already exists and belongs to role %', owner
			USING ERRCODE = 'duplicate_schema',
				  HINT = 'feature_store installs only into a schema fs that it creates; drop or rename that schema first.';
	END IF;
	IF EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.relnamespace = 'fs'::regnamespace)
	   OR EXISTS (SELECT FROM pg_catalog.pg_proc p WHERE p.pronamespace = 'fs'::regnamespace)
	   OR EXISTS (SELECT FROM pg_catalog.pg_type t WHERE t.typnamespace = 'fs'::regnamespace)
	   OR EXISTS (SELECT FROM pg_catalog.pg_operator o WHERE o.oprnamespace = 'fs'::regnamespace) THEN
		RAISE EXCEPTION 'schema "fs" already holds objects'
			USING ERRCODE = 'duplicate_schema',
				  HINT = 'feature_store installs only into an empty schema fs; drop or rename that schema first.';
	END IF;
END;
$$;

COMMENT ON SCHEMA fs IS 'feature_store: entities, feature views, online and offline feature stores';
GRANT USAGE ON SCHEMA fs TO PUBLIC;

-- Storage: only feature_store creates tables here (src/sql/catalog.sql,
-- fs_internal.w_register_version), so no role can squat a name or put a view
-- where a table is expected.
CREATE SCHEMA fs_data;
COMMENT ON SCHEMA fs_data IS 'feature_store storage: one history and one online table per feature view version';
GRANT USAGE ON SCHEMA fs_data TO PUBLIC;

CREATE SCHEMA fs_internal;
COMMENT ON SCHEMA fs_internal IS 'feature_store internals: type support and helper functions (not a user API)';
GRANT USAGE ON SCHEMA fs_internal TO PUBLIC;
