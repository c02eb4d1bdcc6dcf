-- 0.2 -> 0.3, the hand-written step.  The topic files run after it and
-- replace the body of every function, view and aggregate.

-- Internal functions and type support move to schema fs_internal, so that
-- \df fs.* lists only what a user calls; the leading underscore goes.
CREATE SCHEMA fs_internal;
COMMENT ON SCHEMA fs_internal IS 'feature_store internals: type support and helper functions (not a user API)';
GRANT USAGE ON SCHEMA fs_internal TO PUBLIC;

DO $$
DECLARE
	f record;
BEGIN
	FOR f IN
		SELECT p.oid::regprocedure AS sig, p.proname AS name, pg_catalog.pg_get_function_identity_arguments(p.oid) AS args
		  FROM pg_catalog.pg_proc p
		 WHERE p.pronamespace = 'fs'::regnamespace AND p.prokind = 'f'
		   AND (p.proname LIKE '\_%'
				OR p.proname ~ '^(feature_ref_(in|out|recv|send|eq|ne|lt|le|gt|ge|cmp|hash)|profile_(in|out|recv|send)|asof_(ge|gt|restrict_sel|join_sel))$')
	LOOP
		EXECUTE pg_catalog.format('ALTER FUNCTION %s SET SCHEMA fs_internal', f.sig);
		IF f.name LIKE '\_%' THEN
			EXECUTE pg_catalog.format('ALTER FUNCTION fs_internal.%I(%s) RENAME TO %I', f.name, f.args, pg_catalog.substr(f.name, 2));
		END IF;
	END LOOP;
END;
$$;

-- Security (README "Security").  Storage: only the extension creates tables
-- in fs_data; existing storage is handed to the extension's owner, its former
-- owner keeping what it needs WITH GRANT OPTION, and is recorded by OID.
REVOKE CREATE ON SCHEMA fs_data FROM PUBLIC;
ALTER TABLE fs.view_versions ADD COLUMN history_relid regclass, ADD COLUMN online_relid regclass;
DO $$
DECLARE
	vv record;
	rel regclass;
	prev name;
BEGIN
	FOR vv IN SELECT x.view_name, x.version, x.history_table, x.online_table, v.owner_role
				FROM fs.view_versions x JOIN fs.views v ON v.name = x.view_name LOOP
		FOREACH rel IN ARRAY ARRAY[pg_catalog.to_regclass(pg_catalog.format('fs_data.%I', vv.history_table)),
								   pg_catalog.to_regclass(pg_catalog.format('fs_data.%I', vv.online_table))] LOOP
			CONTINUE WHEN rel IS NULL
				OR NOT EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid = rel AND c.relkind = 'r');
			SELECT r.rolname INTO prev FROM pg_catalog.pg_class c JOIN pg_catalog.pg_roles r ON r.oid = c.relowner
			 WHERE c.oid = rel;
			EXECUTE pg_catalog.format('ALTER TABLE %s OWNER TO %I', rel, current_user);
			EXECUTE pg_catalog.format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %I WITH GRANT OPTION', rel, vv.owner_role);
			IF prev IS DISTINCT FROM vv.owner_role AND prev <> current_user THEN
				EXECUTE pg_catalog.format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %I WITH GRANT OPTION', rel, prev);
			END IF;
		END LOOP;
		UPDATE fs.view_versions x
		   SET history_relid = (SELECT c.oid FROM pg_catalog.pg_class c
								 WHERE c.oid = pg_catalog.to_regclass(pg_catalog.format('fs_data.%I', vv.history_table))
								   AND c.relkind = 'r'),
			   online_relid = (SELECT c.oid FROM pg_catalog.pg_class c
								WHERE c.oid = pg_catalog.to_regclass(pg_catalog.format('fs_data.%I', vv.online_table))
								  AND c.relkind = 'r')
		 WHERE x.view_name = vv.view_name AND x.version = vv.version;
	END LOOP;
END;
$$;

-- The catalog: SELECT only; writes go through fs_internal.write.
REVOKE INSERT, UPDATE, DELETE ON fs.entities, fs.views, fs.view_versions, fs.view_features FROM PUBLIC;
REVOKE INSERT ON fs.materialization_runs FROM PUBLIC;
REVOKE UPDATE ON fs.catalog_state FROM PUBLIC;
DROP POLICY owner_writes ON fs.entities;
DROP POLICY owner_writes ON fs.views;
DROP POLICY owner_writes ON fs.view_versions;
DROP POLICY owner_writes ON fs.view_features;
DROP POLICY writers_record ON fs.materialization_runs;
ALTER TABLE fs.catalog_state ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_all ON fs.catalog_state FOR SELECT USING (true);

-- Drift monitors: the run's result and the last error; profiles and alerts
-- readable by the history's readers (policies in drift_monitor.sql).
ALTER TABLE fs.drift_monitors ADD COLUMN last_run jsonb, ADD COLUMN last_error text, ADD COLUMN last_error_at timestamptz;
REVOKE INSERT, UPDATE, DELETE ON fs.drift_monitors, fs.drift_profiles FROM PUBLIC;
REVOKE INSERT ON fs.drift_alerts FROM PUBLIC;
DROP POLICY owner_writes ON fs.drift_monitors;
DROP POLICY readers_write ON fs.drift_profiles;
DROP POLICY read_all ON fs.drift_profiles;
DROP POLICY owner_records ON fs.drift_alerts;
DROP POLICY read_all ON fs.drift_alerts;
-- run_drift_monitors reports each monitor's error: a new result column.
DROP FUNCTION fs.run_drift_monitors(timestamptz);

-- Training sets (0.3): the objects of src/sql/install/training_set.sql, for the 0.2--0.3 upgrade
-- step (src/sql/updates/0.2--0.3.sql).  Append this block to that file as it is.
-- A training set is a name; each creation is a new, immutable version.
CREATE TABLE fs.training_set_names (
	name text PRIMARY KEY,
	owner_role name NOT NULL,
	last_version int NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE fs.training_set_names IS 'training sets: owner and version counter (use fs.training_sets to read)';

-- One row per version: the definition it was built from and what was stored.
CREATE TABLE fs.training_set_versions (
	name text NOT NULL REFERENCES fs.training_set_names (name) ON DELETE CASCADE,
	version int NOT NULL CHECK (version > 0),
	status text NOT NULL CHECK (status IN ('building', 'ready')),
	building_xid xid8,
	relation_name text NOT NULL,
	relid regclass,				-- the foreign table, by OID, once built
	spine text NOT NULL,
	search_path text NOT NULL,
	key_column text NOT NULL,
	ts_column text NOT NULL,
	strict boolean NOT NULL,
	known_at boolean NOT NULL,
	split jsonb,
	description text,
	retrieval_sql text NOT NULL,
	compression_level int NOT NULL,
	row_count bigint,
	chunk_groups int,
	stored_bytes bigint,
	split_rows jsonb,
	spine_hash text,
	checksum text,
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	created_by name NOT NULL,
	PRIMARY KEY (name, version)
);
COMMENT ON TABLE fs.training_set_versions IS
	'immutable training set versions: definition, lineage, counts and checksums (use fs.training_sets to read)';

-- The columns of each version; feature columns carry their resolved feature
-- view version and the profile computed while the set was built.
CREATE TABLE fs.training_set_columns (
	name text NOT NULL,
	version int NOT NULL,
	position int NOT NULL,
	column_name text NOT NULL,
	type regtype NOT NULL,
	typmod int NOT NULL,
	kind text NOT NULL CHECK (kind IN ('spine', 'feature', 'split')),
	ref text,
	view_name text,
	view_version int,
	feature text,
	PRIMARY KEY (name, version, position),
	FOREIGN KEY (name, version) REFERENCES fs.training_set_versions (name, version) ON DELETE CASCADE
);
CREATE INDEX ON fs.training_set_columns (view_name, view_version);
COMMENT ON TABLE fs.training_set_columns IS
	'the columns of each training set version: spine columns, features (with the view version they came from and a profile), the split';

-- The profile of each numeric and text feature column, computed while the
-- set was built: a reference for drift checks.  Like drift profiles they
-- summarize data, so only roles that may read the set see them (policy in
-- training_set.sql).
CREATE TABLE fs.training_set_profiles (
	name text NOT NULL,
	version int NOT NULL,
	column_name text NOT NULL,
	profile fs.profile NOT NULL,
	PRIMARY KEY (name, version, column_name),
	FOREIGN KEY (name, version) REFERENCES fs.training_set_versions (name, version) ON DELETE CASCADE
);
COMMENT ON TABLE fs.training_set_profiles IS
	'profiles of the numeric and text feature columns of each training set version (fs.training_set_profile reads them)';

-- The rows, as compressed column chunks: chunk group g of a version holds up
-- to a few thousand rows of one split, one row here per column.  Written once
-- by fs.create_training_set, never updated; read only by the training-set
-- foreign tables (so no role needs, or gets, any privilege on it).
CREATE TABLE fs_internal.training_chunks (
	set_name text NOT NULL,
	version int NOT NULL,
	chunk_no int NOT NULL,
	column_no int NOT NULL,
	split text,
	nrows int NOT NULL,
	checksum bigint NOT NULL,
	data bytea NOT NULL,
	PRIMARY KEY (set_name, version, chunk_no, column_no),
	FOREIGN KEY (set_name, version) REFERENCES fs.training_set_versions (name, version) ON DELETE CASCADE
);
-- chunks are zstd-compressed already: keep them out of line, uncompressed
ALTER TABLE fs_internal.training_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
COMMENT ON TABLE fs_internal.training_chunks IS
	'internal: training set rows as zstd-compressed column chunks with a CRC-32C each';

SELECT pg_catalog.pg_extension_config_dump('fs.training_set_names', '');
SELECT pg_catalog.pg_extension_config_dump('fs.training_set_versions', '');
SELECT pg_catalog.pg_extension_config_dump('fs.training_set_columns', '');
SELECT pg_catalog.pg_extension_config_dump('fs.training_set_profiles', '');
SELECT pg_catalog.pg_extension_config_dump('fs_internal.training_chunks', '');

-- Everyone reads the catalog, profiles only for the sets they may read; every
-- change goes through fs_internal.write (install/catalog.sql explains why
-- row-level security stays on with read policies only).
GRANT SELECT ON fs.training_set_names, fs.training_set_versions, fs.training_set_columns, fs.training_set_profiles
	TO PUBLIC;
ALTER TABLE fs.training_set_names ENABLE ROW LEVEL SECURITY;
ALTER TABLE fs.training_set_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE fs.training_set_columns ENABLE ROW LEVEL SECURITY;
ALTER TABLE fs.training_set_profiles ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_all ON fs.training_set_names FOR SELECT USING (true);
CREATE POLICY read_all ON fs.training_set_versions FOR SELECT USING (true);
CREATE POLICY read_all ON fs.training_set_columns FOR SELECT USING (true);

-- Each version is a foreign table of this wrapper in fs_data, owned by the
-- extension owner: only its owner can define such tables (nobody gets USAGE
-- on the server), so a foreign table cannot be pointed at someone else's set.
CREATE FUNCTION fs_internal.training_set_fdw_handler() RETURNS fdw_handler
	AS 'MODULE_PATHNAME', 'training_set_fdw_handler' LANGUAGE C STRICT;
COMMENT ON FUNCTION fs_internal.training_set_fdw_handler() IS
	'internal: the foreign-data wrapper that streams training set rows from their chunks';
CREATE FOREIGN DATA WRAPPER fs_training_set HANDLER fs_internal.training_set_fdw_handler;
COMMENT ON FOREIGN DATA WRAPPER fs_training_set IS 'feature_store: reads training set versions';
CREATE SERVER fs_training_sets FOREIGN DATA WRAPPER fs_training_set;
COMMENT ON SERVER fs_training_sets IS 'feature_store: the server of every training set foreign table';
