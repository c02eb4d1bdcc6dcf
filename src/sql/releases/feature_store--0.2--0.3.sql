\echo Use "ALTER EXTENSION feature_store UPDATE" to load this file. \quit

-- from src/sql/updates/0.2--0.3.sql
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

-- Different time types on the two sides (README "One rule for event times"):
-- PostgreSQL would resolve "timestamptz @> date" through an implicit cast of
-- the date at midnight in the session's time zone.  Every pair of different
-- time types has its own operators whose functions refuse when the query is
-- planned (src/time_rule.c), with a hint naming the explicit form.  Their
-- functions live in pg_catalog: the planner takes an operator whose function
-- is in fs or fs_internal for an as-of join.
CREATE FUNCTION fs_internal.mixed_time_support(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'fs_mixed_time_support' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs_internal.mixed_time_support(internal) IS
    'planner support of the as-of operators between different time types: refuses them when a query is planned';
DO $$
DECLARE
	p record;
BEGIN
	FOR p IN
		SELECT s.t AS spine, f.t AS feature, o.op, o.fn, o.what
		  FROM unnest(ARRAY['timestamptz', 'timestamp', 'date']) WITH ORDINALITY AS s(t, i),
			   unnest(ARRAY['timestamptz', 'timestamp', 'date']) WITH ORDINALITY AS f(t, i),
			   (VALUES ('@>=', 'fs_mixed_time_ge', '<='), ('@>', 'fs_mixed_time_gt', '<')) AS o(op, fn, what)
		 WHERE s.t <> f.t
		 ORDER BY s.i, f.i, o.op DESC
	LOOP
		EXECUTE format('CREATE FUNCTION pg_catalog.%I(spine_ts %s, feature_ts %s) RETURNS boolean '
					   'AS %L, %L LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE '
					   'SUPPORT fs_internal.mixed_time_support',
					   p.fn, p.spine, p.feature, 'MODULE_PATHNAME', 'fs_mixed_time');
		EXECUTE format('COMMENT ON FUNCTION pg_catalog.%I(%s, %s) IS %L', p.fn, p.spine, p.feature,
					   format('feature_store: refuses operator %s between %s and %s (cast one side explicitly)',
							  p.op, p.spine, p.feature));
		EXECUTE format('CREATE OPERATOR pg_catalog.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = pg_catalog.%I)',
					   p.op, p.spine, p.feature, p.fn);
		EXECUTE format('COMMENT ON OPERATOR pg_catalog.%s (%s, %s) IS %L', p.op, p.spine, p.feature,
					   format('as-of join between different time types: refused, cast one side explicitly '
							  '(feature time %s spine time)', p.what));
	END LOOP;
END;
$$;

-- Retrieval takes time_zone: the zone timestamps and dates are in where they
-- meet timestamptz (README "One rule for event times").
DROP FUNCTION fs.historical_features(text, fs.feature_ref[], text, text, boolean, boolean);
DROP FUNCTION fs_internal.historical_features(text, fs.feature_ref[], text, text, boolean, boolean, text);

-- Event time means "known at": a version may shift its rows by
-- available_after (README "Materialization"), a new argument of registration.
ALTER TABLE fs.view_versions ADD COLUMN available_after interval;
DROP FUNCTION fs.register_feature_view(text, text, text, text, text, interval, interval, text, text, text[], jsonb);
DROP FUNCTION fs_internal.register_feature_view(text, text, text, text, text, interval, interval, text, text, text[], jsonb,
	text);

-- History is append-only and bitemporal: a changed value for an existing key
-- and event time is a new row with its own created time, so the primary key
-- of every existing history table becomes (key, event time, fs_created_at).
DO $$
DECLARE
	vv record;
	pk name;
BEGIN
	FOR vv IN SELECT x.history_relid, x.key_column, x.ts_column FROM fs.view_versions x
			   WHERE x.history_relid IS NOT NULL LOOP
		SELECT k.conname INTO pk FROM pg_catalog.pg_constraint k
		 WHERE k.conrelid = vv.history_relid AND k.contype = 'p';
		IF pk IS NOT NULL THEN
			EXECUTE pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', vv.history_relid, pk);
		END IF;
		EXECUTE pg_catalog.format('ALTER TABLE %s ADD PRIMARY KEY (%I, %I, fs_created_at)', vv.history_relid,
								  vv.key_column, vv.ts_column);
	END LOOP;
END;
$$;

-- A run records how many of the history rows it wrote revise an existing key
-- and event time (retrieval then breaks ties on event time by created time).
ALTER TABLE fs.materialization_runs ADD COLUMN rows_revised bigint;

-- Online reads resolve and probe in C (src/online_cache.c): the SQL builder
-- of the lookup query is no longer used.
DROP FUNCTION fs_internal.online_sql(fs.feature_ref[], regtype);

-- The background worker's and the training sets' objects are new in 0.3: the
-- Makefile appends install/worker.sql and install/training_set.sql after this
-- step (SQL_NEW_IN_RELEASE), so they are not written twice.

-- from src/sql/install/worker.sql

------------------------------------------------------------------------------
-- The background worker: per-view options, per-version state, run tracking
------------------------------------------------------------------------------

-- Options of a feature view for the worker, set by its owner with
-- fs.set_feature_view_options, fs.pause_feature_view and
-- fs.resume_feature_view.  A NULL option takes its default
-- (fs_internal.version_schedule, src/sql/worker.sql, says which).
CREATE TABLE fs.view_options (
	view_name text PRIMARY KEY REFERENCES fs.views (name) ON DELETE CASCADE,
	paused boolean NOT NULL DEFAULT false,
	lateness interval CHECK (lateness >= interval '0'),
	reconcile_every interval CHECK (reconcile_every > interval '0'),
	expected_freshness interval CHECK (expected_freshness > interval '0'),
	updated_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE fs.view_options IS
	'worker options of a feature view: paused, allowed lateness, full reconciliation period, expected freshness (NULL: default)';

-- What the worker knows about each version it keeps fresh.
CREATE TABLE fs.view_state (
	view_name text NOT NULL,
	version int NOT NULL,
	high_water timestamptz,				-- newest event time materialized by a worker run
	last_success_at timestamptz,		-- start of the last successful worker run
	last_full_at timestamptz,			-- start of the last successful full (windowless) run
	last_run_id bigint,
	last_duration interval,
	consecutive_failures int NOT NULL DEFAULT 0,
	next_attempt_at timestamptz,		-- after a failure: not retried before this
	last_error text,
	last_error_at timestamptz,
	runs_total bigint NOT NULL DEFAULT 0,	-- worker runs finished (for fs.metrics())
	failures_total bigint NOT NULL DEFAULT 0,
	rows_written_total bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (view_name, version),
	FOREIGN KEY (view_name, version) REFERENCES fs.view_versions (view_name, version) ON DELETE CASCADE
);
COMMENT ON TABLE fs.view_state IS
	'worker state of each feature view version: high-water mark, last success, failures and retry time, counters';

-- A worker run records the process that runs it, so that a run left
-- "running" by a crash is recognised.
ALTER TABLE fs.materialization_runs ADD COLUMN pid int;
CREATE INDEX materialization_runs_running ON fs.materialization_runs (view_name, version) WHERE status = 'running';

SELECT pg_catalog.pg_extension_config_dump('fs.view_options', '');
SELECT pg_catalog.pg_extension_config_dump('fs.view_state', '');

-- Read by everyone, written only through the extension's operations.
GRANT SELECT ON fs.view_options, fs.view_state TO PUBLIC;
ALTER TABLE fs.view_options ENABLE ROW LEVEL SECURITY;
ALTER TABLE fs.view_state ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_all ON fs.view_options FOR SELECT USING (true);
CREATE POLICY read_all ON fs.view_state FOR SELECT USING (true);

-- from src/sql/install/training_set.sql

------------------------------------------------------------------------------
-- Training sets: catalog, chunk storage, and the foreign-data wrapper that
-- reads them back (src/training_set_*.c, topic file training_set.sql)
------------------------------------------------------------------------------

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
	time_zone text,
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

-- from src/sql/util.sql

------------------------------------------------------------------------------
-- Internal helpers
------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION fs_internal.describe_source(what text, source text,
	OUT query text, OUT column_names text[], OUT column_types regtype[], OUT relation text)
	AS 'MODULE_PATHNAME', 'fs_describe_source' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION fs_internal.describe_source(text, text) IS
	'internal: validates a feature view source or a spine (a relation name or one SELECT) and returns the query to run, its columns and the qualified relation';

CREATE OR REPLACE FUNCTION fs_internal.check_key_type(entity text, key_type regtype) RETURNS void
	AS 'MODULE_PATHNAME', 'fs_check_key_type' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs_internal.check_key_type(text, regtype) IS
	'internal: checks that a type can key an entity (equality and btree ordering)';

-- The longest identifier, in bytes (NAMEDATALEN - 1, as the server reports it).
CREATE OR REPLACE FUNCTION fs_internal.max_name_bytes() RETURNS int
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$ SELECT current_setting('max_identifier_length')::int $$;
COMMENT ON FUNCTION fs_internal.max_name_bytes() IS 'internal: the longest identifier, in bytes';

-- The types an event time may have: feature views' timestamp columns and
-- spines' time columns.
CREATE OR REPLACE FUNCTION fs_internal.time_types() RETURNS regtype[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$ SELECT ARRAY['timestamptz', 'timestamp', 'date']::regtype[] $$;
COMMENT ON FUNCTION fs_internal.time_types() IS 'internal: the types an event time may have';

-- Checks an object name given as text: present, not empty, fits in a name.
CREATE OR REPLACE FUNCTION fs_internal.check_name(kind text, name text) RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
BEGIN
	IF name IS NULL THEN
		RAISE EXCEPTION '% name must not be null', kind USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF name = '' THEN
		RAISE EXCEPTION '% name must not be empty', kind USING ERRCODE = 'invalid_name';
	END IF;
	IF octet_length(name) > fs_internal.max_name_bytes() THEN
		RAISE EXCEPTION '% name "%" is too long', kind, name
			USING ERRCODE = 'name_too_long',
				  DETAIL = format('It is %s bytes long; the limit is %s.', octet_length(name), fs_internal.max_name_bytes());
	END IF;
END;
$$;
COMMENT ON FUNCTION fs_internal.check_name(text, text) IS 'internal: validates the name of an entity or feature view';

-- The storage table name for a view version: readable when the name is short,
-- clipped and made unique by a hash when it is long.
CREATE OR REPLACE FUNCTION fs_internal.storage_name(view text, version int, suffix text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
	tail text := format('_v%s%s', version, suffix);
	base text := view;
	max int := fs_internal.max_name_bytes();
BEGIN
	IF octet_length(base || tail) > max THEN
		base := left(view, max - octet_length(tail) - 9);
		WHILE octet_length(base) > max - octet_length(tail) - 9 LOOP
			base := left(base, length(base) - 1);
		END LOOP;
		base := base || '_' || left(md5(view), 8);
	END IF;
	RETURN base || tail;
END;
$$;
COMMENT ON FUNCTION fs_internal.storage_name(text, int, text) IS 'internal: storage table name of a feature view version';

-- Looks up a feature view version (the latest when version is NULL), or fails naming it.
CREATE OR REPLACE FUNCTION fs_internal.view_version(view text, version int DEFAULT NULL) RETURNS fs.view_versions
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
	vv fs.view_versions;
BEGIN
	IF NOT EXISTS (SELECT FROM fs.views v WHERE v.name = view) THEN
		RAISE EXCEPTION 'feature view "%" does not exist', view USING ERRCODE = 'undefined_object';
	END IF;
	SELECT * INTO vv FROM fs.view_versions x
	 WHERE x.view_name = view AND (x.version = view_version.version OR view_version.version IS NULL)
	 ORDER BY x.version DESC LIMIT 1;
	IF NOT FOUND THEN
		IF version IS NULL THEN
			RAISE EXCEPTION 'feature view "%" has no versions', view USING ERRCODE = 'undefined_object';
		END IF;
		RAISE EXCEPTION 'feature view "%" has no version %', view, version
			USING ERRCODE = 'undefined_object',
				  HINT = (SELECT format('Its versions are %s.', string_agg(x.version::text, ', ' ORDER BY x.version))
							FROM fs.view_versions x WHERE x.view_name = view);
	END IF;
	RETURN vv;
END;
$$;
COMMENT ON FUNCTION fs_internal.view_version(text, int) IS 'internal: a feature view version, the latest by default';

CREATE OR REPLACE FUNCTION fs_internal.catalog_changed() RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
BEGIN
	UPDATE fs.catalog_state SET generation = generation + 1;
	RETURN NULL;
END;
$$;
COMMENT ON FUNCTION fs_internal.catalog_changed() IS 'internal: bumps the catalog generation';
REVOKE ALL ON FUNCTION fs_internal.catalog_changed() FROM PUBLIC;
CREATE OR REPLACE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fs.entities
	FOR EACH STATEMENT EXECUTE FUNCTION fs_internal.catalog_changed();
CREATE OR REPLACE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fs.views
	FOR EACH STATEMENT EXECUTE FUNCTION fs_internal.catalog_changed();
CREATE OR REPLACE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fs.view_versions
	FOR EACH STATEMENT EXECUTE FUNCTION fs_internal.catalog_changed();
CREATE OR REPLACE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fs.view_features
	FOR EACH STATEMENT EXECUTE FUNCTION fs_internal.catalog_changed();

------------------------------------------------------------------------------
-- Identity: the catalog write path and running as a view's owner
------------------------------------------------------------------------------

-- The only write path to the catalog (src/security.c explains it).  Every
-- fs_internal.w_* operation is SECURITY DEFINER, takes its caller first, and
-- grants EXECUTE to nobody: only this function can call it.
CREATE OR REPLACE FUNCTION fs_internal.write(op text, VARIADIC args "any") RETURNS bigint
	AS 'MODULE_PATHNAME', 'fs_write' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION fs_internal.write(text, "any") IS
	'internal: calls the catalog operation fs_internal.w_<op> with the caller''s identity';

CREATE OR REPLACE FUNCTION fs_internal.enter_role(role regrole) RETURNS bigint
	AS 'MODULE_PATHNAME', 'fs_enter_role' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION fs_internal.enter_role(regrole) IS
	'internal: runs as a role whose privileges the caller has, in a security-restricted operation, until fs_internal.leave_role';
CREATE OR REPLACE FUNCTION fs_internal.leave_role(token bigint) RETURNS void
	AS 'MODULE_PATHNAME', 'fs_leave_role' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION fs_internal.leave_role(bigint) IS 'internal: ends the role switch that fs_internal.enter_role opened';

-- A role name as a regrole (catalog rows record owners by name).
CREATE OR REPLACE FUNCTION fs_internal.role_name(role regrole) RETURNS name
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
AS $$ SELECT r.rolname FROM pg_catalog.pg_roles r WHERE r.oid = role $$;
COMMENT ON FUNCTION fs_internal.role_name(regrole) IS 'internal: the name of a role';

-- The owner role of a feature view: its source runs as this role.
CREATE OR REPLACE FUNCTION fs_internal.view_owner(view text) RETURNS regrole
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
AS $$
	SELECT r.oid::regrole FROM fs.views v JOIN pg_catalog.pg_roles r ON r.rolname = v.owner_role WHERE v.name = view
$$;
COMMENT ON FUNCTION fs_internal.view_owner(text) IS 'internal: the owner role of a feature view';

-- The storage table of a version, as recorded when it was created: the very
-- table (by OID), still a plain table in fs_data owned by the extension's
-- owner.  Anything else (missing, replaced) is an error, never a lookup by name.
CREATE OR REPLACE FUNCTION fs_internal.storage_rel(vv fs.view_versions, online boolean) RETURNS regclass
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
	rel regclass := CASE WHEN online THEN vv.online_relid ELSE vv.history_relid END;
	what text := CASE WHEN online THEN 'online table' ELSE 'history table' END;
BEGIN
	IF rel IS NULL OR NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = rel) THEN
		RAISE EXCEPTION '% of feature view "%" version % is missing', what, vv.view_name, vv.version
			USING ERRCODE = 'undefined_table',
				  HINT = 'Storage is created and dropped only by feature_store; drop this version and register it again.';
	END IF;
	IF NOT EXISTS (SELECT FROM pg_class c
					WHERE c.oid = rel AND c.relkind = 'r' AND c.relnamespace = 'fs_data'::regnamespace
					  AND c.relowner = (SELECT n.nspowner FROM pg_namespace n WHERE n.nspname = 'fs_internal')) THEN
		RAISE EXCEPTION '% of feature view "%" version % is not the table feature_store created', what, vv.view_name, vv.version
			USING ERRCODE = 'wrong_object_type',
				  DETAIL = format('%s is no longer a table in schema fs_data owned by the extension''s owner.', rel);
	END IF;
	RETURN rel;
END;
$$;
COMMENT ON FUNCTION fs_internal.storage_rel(fs.view_versions, boolean) IS
	'internal: the history or online table of a version, checked to be the table feature_store created';

-- Whether the current role may read a version's history (drift profiles and
-- alerts summarize it, so they are visible to the same roles).
CREATE OR REPLACE FUNCTION fs_internal.can_read_history(view text, version int) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
	SELECT coalesce((SELECT pg_catalog.has_table_privilege(vv.history_relid, 'SELECT')
					   FROM fs.view_versions vv
					  WHERE vv.view_name = can_read_history.view AND vv.version = can_read_history.version
						AND EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid = vv.history_relid)), false)
$$;
COMMENT ON FUNCTION fs_internal.can_read_history(text, int) IS
	'internal: whether the current role may read the history of a feature view version';

-- The search_path stored with a definition, from the caller's schemas
-- (current_schemas(false), passed in by the public entry point): temporary
-- schemas are left out (they belong to one session), and a schema where
-- another role can create objects (which could capture names in the source,
-- and so run as the view's owner) is warned about.  The database owner's
-- ownership of schema public (PostgreSQL 15's default) is not warned about.
CREATE OR REPLACE FUNCTION fs_internal.definition_search_path(what text, schemas name[]) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
	s record;
	writers text;
	path text[] := '{}';
BEGIN
	FOR s IN
		SELECT n.nspname, n.nspowner, n.nspacl
		  FROM unnest(schemas) WITH ORDINALITY AS u(name, ord)
		  JOIN pg_namespace n ON n.nspname = u.name
		 ORDER BY u.ord
	LOOP
		CONTINUE WHEN s.nspname LIKE 'pg\_temp\_%' OR s.nspname LIKE 'pg\_toast\_temp\_%' OR s.nspname = 'pg_catalog';
		path := path || quote_ident(s.nspname)::text;
		SELECT string_agg(DISTINCT CASE WHEN w.r = 0 THEN 'PUBLIC' ELSE quote_ident(w.r::regrole::text) END, ', ')
		  INTO writers
		  FROM (SELECT s.nspowner AS r
				UNION ALL
				SELECT a.grantee FROM aclexplode(s.nspacl) a WHERE a.privilege_type = 'CREATE') w
		 WHERE w.r <> 'pg_database_owner'::regrole
		   AND CASE WHEN w.r = 0 THEN true
					ELSE NOT (pg_has_role(w.r, 'MEMBER') OR (SELECT r.rolsuper FROM pg_roles r WHERE r.oid = w.r)) END;
		IF writers IS NOT NULL THEN
			RAISE WARNING 'schema "%" on the search_path of % can be written by %', s.nspname, what, writers
				USING HINT = 'Objects created there could capture names in the source, which runs as the view''s owner. '
							 'Qualify names in the source, or register with a search_path of schemas only you can write.';
		END IF;
	END LOOP;
	RETURN array_to_string(path, ', ');
END;
$$;
COMMENT ON FUNCTION fs_internal.definition_search_path(text, name[]) IS
	'internal: the search_path stored with a definition (no temporary schemas), with a warning for schemas others can write';

-- Running a user's SQL: begin_user_sql switches to the role it runs as (the
-- view's owner; NULL stays the caller) and to the search_path recorded with
-- its definition; end_user_sql switches back.  Every place that runs a
-- source, a spine or a condition goes through this pair.  They are the two
-- functions without a pinned search_path (a SET clause would undo their
-- set_config on return): their bodies qualify every name, and they are called
-- from functions that pin search_path to pg_catalog.
CREATE OR REPLACE FUNCTION fs_internal.begin_user_sql(role regrole, search_path text) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $$
DECLARE
	token bigint := 0;
BEGIN
	IF role IS NOT NULL THEN
		token := fs_internal.enter_role(role);
	END IF;
	PERFORM pg_catalog.set_config('search_path', coalesce(begin_user_sql.search_path, ''), true);
	RETURN token;
END;
$$;
COMMENT ON FUNCTION fs_internal.begin_user_sql(regrole, text) IS
	'internal: runs what follows as a role (or the caller) under a recorded search_path, until fs_internal.end_user_sql';

CREATE OR REPLACE FUNCTION fs_internal.end_user_sql(token bigint) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $$
BEGIN
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog', true);
	IF token OPERATOR(pg_catalog.<>) 0 THEN
		PERFORM fs_internal.leave_role(token);
	END IF;
END;
$$;
COMMENT ON FUNCTION fs_internal.end_user_sql(bigint) IS 'internal: ends what fs_internal.begin_user_sql began';

-- Checks that a version's source, as just described by describe_source
-- (columns and types), still yields the columns and types recorded with the
-- version: a changed type would otherwise be converted silently on insert
-- (numeric 1.7 stored as bigint 2).
CREATE OR REPLACE FUNCTION fs_internal.check_source_columns(vv fs.view_versions, column_names text[],
	column_types regtype[]) RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
	c record;
	pos int;
BEGIN
	FOR c IN
		SELECT vv.key_column AS name, vv.key_type AS type
		UNION ALL SELECT vv.ts_column, vv.ts_type
		UNION ALL SELECT f.name, f.type FROM fs.view_features f
				   WHERE f.view_name = vv.view_name AND f.version = vv.version
	LOOP
		pos := array_position(column_names, c.name);
		IF pos IS NULL THEN
			RAISE EXCEPTION 'source of feature view "%" version % no longer has column "%"', vv.view_name, vv.version, c.name
				USING ERRCODE = 'undefined_column',
					  HINT = 'A version''s columns are fixed; register the changed source as a new version.';
		END IF;
		IF column_types[pos] <> c.type THEN
			RAISE EXCEPTION 'column "%" of the source of feature view "%" has type %, but version % recorded %',
				c.name, vv.view_name, column_types[pos], vv.version, c.type
				USING ERRCODE = 'datatype_mismatch',
					  HINT = 'A version''s column types are fixed; cast the column in the source, or register a new version.';
		END IF;
	END LOOP;
END;
$$;
COMMENT ON FUNCTION fs_internal.check_source_columns(fs.view_versions, text[], regtype[]) IS
	'internal: errors when a version''s source no longer yields its recorded columns and types';

-- Whether a source's event time is the start of a window over aggregated
-- rows (src/catalog.c): registration suggests available_after then.
CREATE OR REPLACE FUNCTION fs_internal.source_time_truncation(query text, ts_column text,
	OUT how text, OUT window_length interval)
	AS 'MODULE_PATHNAME', 'fs_source_time_truncation' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION fs_internal.source_time_truncation(text, text) IS
	'internal: how a source query''s event time column truncates a time (date_trunc, date_bin, a cast to date) when the query aggregates rows, and the window''s length; NULLs otherwise';

-- Whether materialization has revised rows of a version's history (written a
-- second row for a key and event time), as its runs recorded.
CREATE OR REPLACE FUNCTION fs_internal.history_revised(view text, version int) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
	SELECT EXISTS (SELECT FROM fs.materialization_runs r
					WHERE r.view_name = history_revised.view AND r.version = history_revised.version
					  AND r.rows_revised > 0)
$$;
COMMENT ON FUNCTION fs_internal.history_revised(text, int) IS
	'internal: whether a run has written a revision (a second row for a key and event time) into a version''s history';

-- The current rows of a version's history, as a FROM item: the newest created
-- row of each key and event time (the table itself while nothing was revised).
CREATE OR REPLACE FUNCTION fs_internal.history_rows(vv fs.view_versions) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
	rel regclass := fs_internal.storage_rel(vv, false);
BEGIN
	IF NOT fs_internal.history_revised(vv.view_name, vv.version) THEN
		RETURN rel::text;
	END IF;
	RETURN format('(SELECT * FROM %1$s AS h WHERE NOT EXISTS (SELECT FROM %1$s AS n WHERE n.%2$I = h.%2$I '
				  'AND n.%3$I = h.%3$I AND n.fs_created_at > h.fs_created_at)) AS fs_history',
				  rel, vv.key_column, vv.ts_column);
END;
$$;
COMMENT ON FUNCTION fs_internal.history_rows(fs.view_versions) IS
	'internal: a version''s history as a FROM item holding the newest created row of each key and event time';

-- from src/sql/feature_ref.sql

CREATE OR REPLACE FUNCTION fs.feature_ref(view text, feature text, version int DEFAULT NULL) RETURNS fs.feature_ref
	AS 'MODULE_PATHNAME', 'feature_ref_make' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION fs.feature_ref(text, text, int) IS
	'builds a feature reference from a view name, a feature name (or *) and an optional pinned version';

CREATE OR REPLACE FUNCTION fs.ref_view(fs.feature_ref) RETURNS text
	AS 'MODULE_PATHNAME', 'feature_ref_view' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.ref_view(fs.feature_ref) IS 'the feature view a reference names';
CREATE OR REPLACE FUNCTION fs.ref_version(fs.feature_ref) RETURNS int
	AS 'MODULE_PATHNAME', 'feature_ref_version' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.ref_version(fs.feature_ref) IS 'the pinned version of a reference, NULL for the latest';
CREATE OR REPLACE FUNCTION fs.ref_feature(fs.feature_ref) RETURNS text
	AS 'MODULE_PATHNAME', 'feature_ref_feature' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.ref_feature(fs.feature_ref) IS 'the feature a reference names, NULL for view:*';

-- from src/sql/catalog.sql

------------------------------------------------------------------------------
-- Catalog views
------------------------------------------------------------------------------

CREATE OR REPLACE VIEW fs.feature_views AS
SELECT v.name, vv.version, v.entity, vv.key_column, vv.key_type, vv.ts_column, vv.ts_type,
	   (SELECT pg_catalog.array_agg(f.name ORDER BY f.position)
		  FROM fs.view_features f
		 WHERE f.view_name = vv.view_name AND f.version = vv.version) AS features,
	   vv.ttl, v.schedule, vv.created_at, v.owner, v.description, v.tags, vv.source,
	   vv.version = (SELECT pg_catalog.max(x.version) FROM fs.view_versions x WHERE x.view_name = v.name) AS is_latest,
	   vv.history_relid AS history_relation,
	   vv.online_relid AS online_relation,
	   v.owner_role,
	   vv.available_after
  FROM fs.views v
  JOIN fs.view_versions vv ON vv.view_name = v.name;
COMMENT ON VIEW fs.feature_views IS
	'one row per feature view version: definition, metadata, and the history and online tables to query';
GRANT SELECT ON fs.feature_views TO PUBLIC;

CREATE OR REPLACE VIEW fs.features AS
SELECT f.view_name AS view, f.version, f.name AS feature, f.type, f.position,
	   v.feature_descriptions ->> f.name AS description
  FROM fs.view_features f
  JOIN fs.views v ON v.name = f.view_name;
COMMENT ON VIEW fs.features IS 'one row per feature of every feature view version, with its type and description';
GRANT SELECT ON fs.features TO PUBLIC;

------------------------------------------------------------------------------
-- Entities
------------------------------------------------------------------------------

-- Every change to the catalog is an operation fs_internal.w_<op>(caller, ...),
-- reached only through fs_internal.write, which passes the caller's identity
-- (src/security.c).  The public functions validate what they can as the
-- caller, then call the operation, which checks ownership against that
-- identity under the object's lock.

CREATE OR REPLACE FUNCTION fs_internal.w_create_entity(caller regrole, name text, key_type regtype, description text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	e fs.entities;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext('entity:' || name));
	SELECT * INTO e FROM fs.entities x WHERE x.name = w_create_entity.name;
	IF FOUND THEN
		IF e.key_type <> w_create_entity.key_type THEN
			RAISE EXCEPTION 'entity "%" already exists with key type %', name, e.key_type
				USING ERRCODE = 'duplicate_object',
					  HINT = 'Entity key types cannot change; create an entity with another name.';
		END IF;
		-- Registering again is a no-op, apart from a new description.
		IF description IS NOT NULL AND description IS DISTINCT FROM e.description THEN
			IF NOT pg_has_role(caller, e.owner_role, 'USAGE') THEN
				RAISE EXCEPTION 'must be owner of entity "%"', name USING ERRCODE = 'insufficient_privilege';
			END IF;
			UPDATE fs.entities x SET description = w_create_entity.description WHERE x.name = w_create_entity.name;
		END IF;
		RETURN NULL;
	END IF;
	INSERT INTO fs.entities (name, key_type, description, owner_role)
	VALUES (name, key_type, description, fs_internal.role_name(caller));
	RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_create_entity(regrole, text, regtype, text) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_create_entity(regrole, text, regtype, text) IS
	'internal catalog operation: creates an entity, or updates its description';

CREATE OR REPLACE FUNCTION fs.create_entity(name text, key_type regtype, description text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
BEGIN
	PERFORM fs_internal.check_name('entity', name);
	IF key_type IS NULL THEN
		RAISE EXCEPTION 'key type of entity "%" must not be null', name USING ERRCODE = 'null_value_not_allowed';
	END IF;
	PERFORM fs_internal.check_key_type(name, key_type);
	PERFORM fs_internal.write('create_entity', name, key_type, description);
END;
$$;
COMMENT ON FUNCTION fs.create_entity(text, regtype, text) IS
	'creates an entity with its key type; calling it again with the same key type is a no-op';

CREATE OR REPLACE FUNCTION fs_internal.w_drop_entity(caller regrole, name text, cascade boolean) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	e fs.entities;
	views text;
	v text;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext('entity:' || name));
	SELECT * INTO e FROM fs.entities x WHERE x.name = w_drop_entity.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'entity "%" does not exist', name USING ERRCODE = 'undefined_object';
	END IF;
	IF NOT pg_has_role(caller, e.owner_role, 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of entity "%"', name USING ERRCODE = 'insufficient_privilege';
	END IF;
	SELECT string_agg(format('%I', x.name), ', ' ORDER BY x.name) INTO views FROM fs.views x WHERE x.entity = w_drop_entity.name;
	IF views IS NOT NULL AND NOT cascade THEN
		RAISE EXCEPTION 'cannot drop entity "%" because feature views depend on it', name
			USING ERRCODE = 'dependent_objects_still_exist',
				  DETAIL = format('Feature views: %s.', views),
				  HINT = 'Drop the feature views first, or pass cascade => true.';
	END IF;
	FOR v IN SELECT x.name FROM fs.views x WHERE x.entity = w_drop_entity.name ORDER BY x.name LOOP
		PERFORM fs_internal.w_drop_feature_view(caller, v, NULL, true);
	END LOOP;
	DELETE FROM fs.entities x WHERE x.name = w_drop_entity.name;
	RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_drop_entity(regrole, text, boolean) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_drop_entity(regrole, text, boolean) IS
	'internal catalog operation: drops an entity (and with cascade its feature views)';

CREATE OR REPLACE FUNCTION fs.drop_entity(name text, cascade boolean DEFAULT false) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
BEGIN
	PERFORM fs_internal.write('drop_entity', name, coalesce(cascade, false));
END;
$$;
COMMENT ON FUNCTION fs.drop_entity(text, boolean) IS
	'drops an entity; with cascade => true also its feature views and their storage';

------------------------------------------------------------------------------
-- Feature views
------------------------------------------------------------------------------

-- A query in normal form, as PostgreSQL prints it back (the definition of a
-- temporary view over it), read under a definition's search_path; NULL when
-- it cannot be formed.
CREATE OR REPLACE FUNCTION fs_internal.normalized_query(query text, search_path text) RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	token bigint;
	def text;
	tmp text := 'fs_normalized_' || pg_backend_pid();
BEGIN
	BEGIN
		token := fs_internal.begin_user_sql(NULL, normalized_query.search_path);
		EXECUTE format('CREATE TEMPORARY VIEW %I AS %s', tmp, query);
		def := pg_get_viewdef(format('pg_temp.%I', tmp)::regclass);
		PERFORM fs_internal.end_user_sql(token);
		RAISE EXCEPTION USING ERRCODE = 'P0004';	-- undo the view
	EXCEPTION WHEN assert_failure THEN
		RETURN def;
	WHEN OTHERS THEN
		RETURN NULL;
	END;
END;
$$;
COMMENT ON FUNCTION fs_internal.normalized_query(text, text) IS
	'internal: a query as PostgreSQL prints it back, to compare two sources by meaning rather than by text';

CREATE OR REPLACE FUNCTION fs_internal.register_feature_view(
	name text,
	entity text,
	source text,
	key_column text,
	ts_column text,
	ttl interval,
	schedule interval,
	description text,
	owner text,
	tags text[],
	feature_descriptions jsonb,
	available_after interval,
	search_path text
) RETURNS int
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
SET intervalstyle = postgres	-- intervals in messages read the same under any style
AS $$
DECLARE
	e fs.entities;
	v fs.views;
	latest fs.view_versions;
	src record;
	key_pos int;
	ts_pos int;
	ts_t regtype;
	feat_names text[] := '{}';
	feat_types regtype[] := '{}';
	i int;
	dup text;
	token bigint;
	query text;
	latest_query text;
	trunc_how text;
	trunc_window interval;
BEGIN
	PERFORM fs_internal.check_name('feature view', name);
	IF entity IS NULL OR source IS NULL OR key_column IS NULL OR ts_column IS NULL THEN
		RAISE EXCEPTION 'feature view "%": entity, source, key_column and ts_column must not be null', name
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF ttl IS NOT NULL AND ttl <= interval '0' THEN
		RAISE EXCEPTION 'ttl of feature view "%" must be positive', name USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF schedule IS NOT NULL AND schedule <= interval '0' THEN
		RAISE EXCEPTION 'schedule of feature view "%" must be positive', name USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF available_after < interval '0' THEN
		RAISE EXCEPTION 'available_after of feature view "%" must not be negative', name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'It is how long after its event time a row''s values are known.';
	END IF;
	IF available_after = interval '0' THEN
		available_after := NULL;	-- the same definition as none
	END IF;
	IF feature_descriptions IS NOT NULL AND jsonb_typeof(feature_descriptions) <> 'object' THEN
		RAISE EXCEPTION 'feature_descriptions of feature view "%" must be a JSON object', name
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	SELECT * INTO e FROM fs.entities x WHERE x.name = register_feature_view.entity;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'entity "%" does not exist', entity
			USING ERRCODE = 'undefined_object', HINT = 'Create it with fs.create_entity().';
	END IF;

	-- Ownership is checked again by the operation, under the view's lock.
	SELECT * INTO v FROM fs.views x WHERE x.name = register_feature_view.name;
	IF FOUND THEN
		IF NOT pg_has_role(v.owner_role, 'USAGE') THEN
			RAISE EXCEPTION 'must be owner of feature view "%"', name USING ERRCODE = 'insufficient_privilege';
		END IF;
		IF v.entity <> e.name THEN
			RAISE EXCEPTION 'feature view "%" belongs to entity "%", not "%"', name, v.entity, e.name
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END IF;

	-- Plan the source as the caller, in the caller's schemas, and check its columns.
	token := fs_internal.begin_user_sql(NULL, register_feature_view.search_path);
	src := fs_internal.describe_source(format('source of feature view "%s"', name), source);
	IF available_after IS NULL AND ts_column = ANY (src.column_names) THEN
		SELECT t.how, t.window_length INTO trunc_how, trunc_window
		  FROM fs_internal.source_time_truncation(src.query, ts_column) t;
	END IF;
	PERFORM fs_internal.end_user_sql(token);
	key_pos := array_position(src.column_names, key_column);
	IF key_pos IS NULL THEN
		RAISE EXCEPTION 'source of feature view "%" has no key column "%"', name, key_column
			USING ERRCODE = 'undefined_column',
				  HINT = format('Its columns are %s.', array_to_string(src.column_names, ', '));
	END IF;
	IF src.column_types[key_pos] <> e.key_type THEN
		RAISE EXCEPTION 'key column "%" of feature view "%" has type %, but entity "%" has key type %',
			key_column, name, src.column_types[key_pos], e.name, e.key_type
			USING ERRCODE = 'datatype_mismatch', HINT = 'Cast the key column in the source query.';
	END IF;
	ts_pos := array_position(src.column_names, ts_column);
	IF ts_pos IS NULL THEN
		RAISE EXCEPTION 'source of feature view "%" has no timestamp column "%"', name, ts_column
			USING ERRCODE = 'undefined_column',
				  HINT = format('Its columns are %s.', array_to_string(src.column_names, ', '));
	END IF;
	ts_t := src.column_types[ts_pos];
	IF ts_t <> ALL (fs_internal.time_types()) THEN
		RAISE EXCEPTION 'timestamp column "%" of feature view "%" has type %', ts_column, name, ts_t
			USING ERRCODE = 'datatype_mismatch', HINT = 'It must be timestamptz, timestamp or date.';
	END IF;
	IF key_pos = ts_pos THEN
		RAISE EXCEPTION 'feature view "%" uses column "%" as both key and timestamp', name, key_column
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- A date plus available_after must be a date again: whole days (24 hours count as one).
	IF ts_t = 'date'::regtype AND available_after IS NOT NULL
	   AND date_trunc('day', justify_hours(available_after)) <> justify_hours(available_after) THEN
		RAISE EXCEPTION 'available_after of feature view "%" must be whole days: its event times are dates', name
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('available_after is %s.', available_after),
				  HINT = 'Give a whole number of days, or make the event time a timestamp.';
	END IF;
	SELECT c INTO dup FROM unnest(src.column_names) c GROUP BY c HAVING count(*) > 1 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'source of feature view "%" has more than one column named "%"', name, dup
			USING ERRCODE = 'duplicate_column';
	END IF;
	IF 'fs_batch' = ANY (src.column_names) THEN
		RAISE EXCEPTION 'source of feature view "%" has a column named "fs_batch"', name
			USING ERRCODE = 'duplicate_column', HINT = 'That name is reserved for materialization; rename it.';
	END IF;
	FOR i IN 1 .. coalesce(array_length(src.column_names, 1), 0) LOOP
		CONTINUE WHEN i = key_pos OR i = ts_pos;
		IF src.column_names[i] = 'fs_created_at' THEN
			RAISE EXCEPTION 'source of feature view "%" has a column named "fs_created_at"', name
				USING ERRCODE = 'duplicate_column', HINT = 'That name is reserved for the created time; rename it.';
		END IF;
		feat_names := feat_names || src.column_names[i];
		feat_types := feat_types || src.column_types[i];
	END LOOP;
	IF '*' = ANY (feat_names) THEN
		RAISE EXCEPTION 'source of feature view "%" has a column named "*"', name
			USING ERRCODE = 'invalid_column_reference', HINT = 'References use view:* for all features; rename the column.';
	END IF;
	-- Storage rows must fit a heap page: fixed-width columns cannot be moved
	-- out of line (1500 float8 features would register, then never store).
	IF cardinality(feat_names) + 3 > 1600
	   OR (SELECT sum(t.typlen) FROM unnest(src.column_types) u(ty) JOIN pg_type t ON t.oid = u.ty WHERE t.typlen > 0)
		  > 8000 THEN
		RAISE EXCEPTION 'feature view "%" has too many features to store: %', name, cardinality(feat_names)
			USING ERRCODE = 'program_limit_exceeded',
				  DETAIL = 'A history row holds the key, the event time, the created time and every feature, '
						   'and its fixed-width columns must fit in 8000 bytes (about 990 float8 features).',
				  HINT = 'Split the features over several feature views of the same entity.';
	END IF;
	IF cardinality(feat_names) = 0 THEN
		RAISE EXCEPTION 'source of feature view "%" has no feature columns', name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Every column other than the key and timestamp is a feature.';
	END IF;

	-- A window's aggregate stamped at the window's start holds values from all
	-- of it: a spine time inside the window would see its future.
	IF trunc_how IS NOT NULL THEN
		RAISE NOTICE 'event time "%" of feature view "%" is the start of a %window (%) over aggregated rows',
			ts_column, name, coalesce(trunc_window::text || ' ', ''), trunc_how
			USING DETAIL = 'A row stamped at the start of its window holds values from the whole window, '
						   'so a spine time inside the window would see values from its future.',
				  HINT = format('Register it with available_after => %s, so that rows are stamped when their window ends.',
								coalesce(quote_literal(trunc_window::text), 'the length of the window'));
	END IF;

	-- Two sources that plan to the same query (differing in white space, the
	-- case of unquoted names, comments) are one definition: the latest
	-- version's text is kept when the new one normalizes to the same.
	query := src.query;
	SELECT x.source_query INTO latest_query FROM fs.view_versions x
	 WHERE x.view_name = register_feature_view.name AND x.search_path = register_feature_view.search_path
	 ORDER BY x.version DESC LIMIT 1;
	IF latest_query IS NOT NULL AND latest_query <> query
	   AND fs_internal.normalized_query(query, register_feature_view.search_path)
		   = fs_internal.normalized_query(latest_query, register_feature_view.search_path) THEN
		query := latest_query;
	END IF;

	RETURN fs_internal.write('register_version', name, e.name, source, query, search_path, key_column,
							 ts_column, ts_t, ttl, schedule, description, owner, tags, feature_descriptions,
							 feat_names, feat_types, available_after);
END;
$$;
COMMENT ON FUNCTION fs_internal.register_feature_view(text, text, text, text, text, interval, interval, text, text, text[], jsonb,
	interval, text) IS
	'internal: fs.register_feature_view with the schemas the source resolves in';

-- Records a registration: metadata in place, and a new version with its
-- storage unless the definition equals the latest version's.  Storage tables
-- are created in fs_data (where no other role can create anything), owned by
-- the extension's owner, with the view's owner role granted what it needs to
-- materialize and to grant reads (WITH GRANT OPTION).  Nobody else can drop,
-- replace, or attach triggers or rules to them.
CREATE OR REPLACE FUNCTION fs_internal.w_register_version(
	caller regrole, name text, entity text, source text, query text, search_path text, key_column text,
	ts_column text, ts_type regtype, ttl interval, schedule interval, description text, owner text, tags text[],
	feature_descriptions jsonb, feat_names text[], feat_types regtype[], available_after interval
) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	e fs.entities;
	v fs.views;
	latest fs.view_versions;
	n int;
	hist text;
	onl text;
	cols text := '';
	i int;
BEGIN
	SELECT * INTO e FROM fs.entities x WHERE x.name = w_register_version.entity;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'entity "%" does not exist', entity USING ERRCODE = 'undefined_object';
	END IF;
	-- Concurrent registrations of one view take turns.
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext('view:' || name));
	SELECT * INTO v FROM fs.views x WHERE x.name = w_register_version.name;
	IF FOUND THEN
		IF NOT pg_has_role(caller, v.owner_role, 'USAGE') THEN
			RAISE EXCEPTION 'must be owner of feature view "%"', name USING ERRCODE = 'insufficient_privilege';
		END IF;
		IF v.entity <> e.name THEN
			RAISE EXCEPTION 'feature view "%" belongs to entity "%", not "%"', name, v.entity, e.name
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END IF;

	-- Metadata (not part of a version) is updated in place, only when it changes.
	IF v.name IS NULL THEN
		INSERT INTO fs.views (name, entity, schedule, description, owner, tags, feature_descriptions, owner_role)
		VALUES (name, e.name, schedule, description, coalesce(owner, fs_internal.role_name(caller)::text),
				coalesce(tags, '{}'), coalesce(feature_descriptions, '{}'), fs_internal.role_name(caller))
		RETURNING * INTO v;
	ELSE
		UPDATE fs.views x SET
			schedule = w_register_version.schedule,
			description = coalesce(w_register_version.description, x.description),
			owner = coalesce(w_register_version.owner, x.owner),
			tags = coalesce(w_register_version.tags, x.tags),
			feature_descriptions = coalesce(w_register_version.feature_descriptions, x.feature_descriptions),
			updated_at = now()
		 WHERE x.name = v.name
		   AND (x.schedule, x.description, x.owner, x.tags, x.feature_descriptions) IS DISTINCT FROM
			   (w_register_version.schedule,
				coalesce(w_register_version.description, x.description),
				coalesce(w_register_version.owner, x.owner),
				coalesce(w_register_version.tags, x.tags),
				coalesce(w_register_version.feature_descriptions, x.feature_descriptions));

		-- An identical definition is the latest version.
		SELECT * INTO latest FROM fs.view_versions x WHERE x.view_name = v.name ORDER BY x.version DESC LIMIT 1;
		IF FOUND
		   AND latest.source_query = w_register_version.query
		   AND latest.search_path = w_register_version.search_path
		   AND latest.key_column = w_register_version.key_column
		   AND latest.ts_column = w_register_version.ts_column
		   AND latest.key_type = e.key_type AND latest.ts_type = w_register_version.ts_type
		   AND latest.ttl IS NOT DISTINCT FROM w_register_version.ttl
		   AND latest.available_after IS NOT DISTINCT FROM w_register_version.available_after
		   AND (SELECT array_agg(f.name ORDER BY f.position) FROM fs.view_features f
				 WHERE f.view_name = v.name AND f.version = latest.version) = feat_names
		   AND (SELECT array_agg(f.type ORDER BY f.position) FROM fs.view_features f
				 WHERE f.view_name = v.name AND f.version = latest.version) = feat_types
		THEN
			RETURN latest.version;
		END IF;
	END IF;
	n := v.last_version + 1;
	UPDATE fs.views x SET last_version = n, updated_at = now() WHERE x.name = v.name;

	-- Storage: history (append-only and bitemporal: unique on key, event time
	-- and created time; its index serves the as-of join, and orders the rows of
	-- one event time by creation) and online (one row per key).
	hist := fs_internal.storage_name(name, n, '');
	onl := fs_internal.storage_name(name, n, '_online');
	FOR i IN 1 .. cardinality(feat_names) LOOP
		cols := cols || format(', %I %s', feat_names[i], format_type(feat_types[i], NULL));
	END LOOP;
	EXECUTE format('CREATE TABLE fs_data.%I (%I %s NOT NULL, %I %s NOT NULL, '
				   'fs_created_at timestamptz NOT NULL DEFAULT pg_catalog.now()%s, PRIMARY KEY (%I, %I, fs_created_at))',
				   hist, key_column, format_type(e.key_type, NULL), ts_column, format_type(ts_type, NULL), cols,
				   key_column, ts_column);
	EXECUTE format('CREATE TABLE fs_data.%I (%I %s PRIMARY KEY, %I %s NOT NULL, '
				   'fs_created_at timestamptz NOT NULL%s)',
				   onl, key_column, format_type(e.key_type, NULL), ts_column, format_type(ts_type, NULL), cols);
	EXECUTE format('COMMENT ON TABLE fs_data.%I IS %L', hist,
				   format('feature_store: history of feature view %s version %s', name, n));
	EXECUTE format('COMMENT ON TABLE fs_data.%I IS %L', onl,
				   format('feature_store: online store of feature view %s version %s', name, n));
	EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON fs_data.%I, fs_data.%I TO %I WITH GRANT OPTION',
				   hist, onl, v.owner_role);

	INSERT INTO fs.view_versions (view_name, version, source, source_query, search_path, key_column, key_type,
								  ts_column, ts_type, ttl, history_table, online_table, history_relid, online_relid,
								  created_by, available_after)
	VALUES (v.name, n, source, query, search_path, key_column, e.key_type, ts_column, ts_type, ttl, hist, onl,
			format('fs_data.%I', hist)::regclass, format('fs_data.%I', onl)::regclass, fs_internal.role_name(caller),
			available_after);
	INSERT INTO fs.view_features (view_name, version, position, name, type)
	SELECT v.name, n, o, f, t FROM unnest(feat_names, feat_types) WITH ORDINALITY AS u(f, t, o);
	RETURN n;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_register_version(regrole, text, text, text, text, text, text, text, regtype, interval,
	interval, text, text, text[], jsonb, text[], regtype[], interval) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_register_version(regrole, text, text, text, text, text, text, text, regtype, interval,
	interval, text, text, text[], jsonb, text[], regtype[], interval) IS
	'internal catalog operation: records a registration, creating a version and its storage when the definition changed';

-- The public entry point captures the caller's schemas: names in the source
-- resolve there now and at every materialization (by name, so a dbt rebuild
-- that renames a table is picked up).
CREATE OR REPLACE FUNCTION fs.register_feature_view(
	name text,
	entity text,
	source text,
	key_column text,
	ts_column text,
	ttl interval DEFAULT NULL,
	schedule interval DEFAULT NULL,
	description text DEFAULT NULL,
	owner text DEFAULT NULL,
	tags text[] DEFAULT NULL,
	feature_descriptions jsonb DEFAULT NULL,
	available_after interval DEFAULT NULL
) RETURNS int
LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $$
	SELECT fs_internal.register_feature_view($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
		fs_internal.definition_search_path(pg_catalog.format('feature view "%s"', $1), pg_catalog.current_schemas(false)))
$$;
COMMENT ON FUNCTION fs.register_feature_view(text, text, text, text, text, interval, interval, text, text, text[], jsonb,
	interval) IS
	'registers a feature view; returns the new version, or the latest one when the definition is unchanged; '
	'available_after stamps rows at event time + that interval, when their values are known';

CREATE OR REPLACE FUNCTION fs_internal.w_drop_feature_view(caller regrole, name text, version int, cascade boolean)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	v fs.views;
	vv fs.view_versions;
	mode text := CASE WHEN cascade THEN 'CASCADE' ELSE 'RESTRICT' END;
	rels text;
BEGIN
	SELECT * INTO v FROM fs.views x WHERE x.name = w_drop_feature_view.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'feature view "%" does not exist', name USING ERRCODE = 'undefined_object';
	END IF;
	IF NOT pg_has_role(caller, v.owner_role, 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of feature view "%"', name USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF version IS NOT NULL THEN
		PERFORM fs_internal.view_version(name, version);
	END IF;
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext('view:' || name));
	FOR vv IN SELECT * FROM fs.view_versions x
			   WHERE x.view_name = v.name AND (x.version = w_drop_feature_view.version OR w_drop_feature_view.version IS NULL)
	LOOP
		-- Training sets built from this version block the drop unless cascading.
		IF NOT cascade THEN
			rels := fs_internal.training_set_dependents(vv.view_name, vv.version);
			IF rels IS NOT NULL THEN
				RAISE EXCEPTION 'cannot drop version % of feature view "%" because training sets were built from it',
					vv.version, name
					USING ERRCODE = 'dependent_objects_still_exist', DETAIL = format('Training set versions: %s.', rels),
						  HINT = 'Drop them first, or pass cascade => true.';
			END IF;
		ELSE
			PERFORM fs_internal.drop_training_set_dependents(vv.view_name, vv.version);
		END IF;
		-- Only the tables recorded at creation, and only while they are still
		-- the extension's plain tables in fs_data.
		SELECT string_agg(c.oid::regclass::text, ', ') INTO rels
		  FROM pg_class c
		 WHERE c.oid IN (vv.history_relid, vv.online_relid) AND c.relkind = 'r'
		   AND c.relnamespace = 'fs_data'::regnamespace
		   AND c.relowner = (SELECT n.nspowner FROM pg_namespace n WHERE n.nspname = 'fs_internal');
		-- Objects that depend on the storage (views over it) block the drop unless cascading.
		IF rels IS NOT NULL THEN
			BEGIN
				EXECUTE format('DROP TABLE %s %s', rels, mode);
			EXCEPTION WHEN dependent_objects_still_exist THEN
				RAISE EXCEPTION 'cannot drop version % of feature view "%" because other objects depend on its storage',
					vv.version, name
					USING ERRCODE = 'dependent_objects_still_exist',
						  HINT = 'Drop the dependent objects first, or pass cascade => true.';
			END;
		END IF;
		DELETE FROM fs.view_versions x WHERE x.view_name = vv.view_name AND x.version = vv.version;
	END LOOP;
	IF version IS NULL THEN
		DELETE FROM fs.views x WHERE x.name = v.name;
	END IF;
	RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_drop_feature_view(regrole, text, int, boolean) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_drop_feature_view(regrole, text, int, boolean) IS
	'internal catalog operation: drops a version of a feature view, or the whole view, with its storage';

CREATE OR REPLACE FUNCTION fs.drop_feature_view(name text, version int DEFAULT NULL, cascade boolean DEFAULT false) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
BEGIN
	PERFORM fs_internal.write('drop_feature_view', name, version, coalesce(cascade, false));
END;
$$;
COMMENT ON FUNCTION fs.drop_feature_view(text, int, boolean) IS
	'drops one version of a feature view, or the whole view when version is NULL, with its storage';

-- from src/sql/materialize.sql

------------------------------------------------------------------------------
-- Materialization
------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION fs.materialize(view text, start timestamptz DEFAULT NULL, finish timestamptz DEFAULT NULL,
	OUT version int, OUT rows_read bigint, OUT rows_written bigint, OUT online_rows bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	vv fs.view_versions;
	names text[];
	run_as regrole;
	hist regclass;
	onl regclass;
	token bigint;
	src record;
	started timestamptz := clock_timestamp();
	created timestamptz;
	feat_list text;
	set_list text;
	stamp text;
	sql text;
	bad_key text;
	bad_time text;
	revised bigint;
BEGIN
	IF view IS NULL THEN
		RAISE EXCEPTION 'feature view name must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF start IS NOT NULL AND finish IS NOT NULL AND start >= finish THEN
		RAISE EXCEPTION 'materialization window of feature view "%" is empty: start % is not before finish %',
			view, start, finish USING ERRCODE = 'invalid_parameter_value';
	END IF;
	vv := fs_internal.view_version(view);
	version := vv.version;
	hist := fs_internal.storage_rel(vv, false);
	onl := fs_internal.storage_rel(vv, true);
	-- The source is the owner's SQL: it runs as the owner role, never with the
	-- caller's (perhaps a superuser's) rights, so only its members may run it.
	run_as := fs_internal.view_owner(vv.view_name);
	IF NOT pg_has_role(run_as, 'USAGE') THEN
		RAISE EXCEPTION 'permission denied to materialize feature view "%"', view
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = format('Materialization runs as the view''s owner role %s; only its members may run it.', run_as);
	END IF;
	-- One materialization of a version at a time.  The created time is taken
	-- once the previous run has committed, so later runs write later times.
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext(format('materialize:%s@%s', view, vv.version)));
	created := clock_timestamp();

	SELECT array_agg(f.name ORDER BY f.position) INTO names
	  FROM fs.view_features f WHERE f.view_name = vv.view_name AND f.version = vv.version;
	SELECT string_agg(format('%I', x), ', '), string_agg(format('%1$I = EXCLUDED.%1$I', x), ', ')
	  INTO feat_list, set_list FROM unnest(names) x;

	-- Rows are stamped when their values are known: the source's event time
	-- plus available_after (the window still selects on the source's time).
	stamp := CASE WHEN vv.available_after IS NULL THEN format('%I', vv.ts_column)
				  WHEN vv.ts_type = 'date'::regtype THEN format('(%I + $3)::date', vv.ts_column)
				  ELSE format('%I + $3', vv.ts_column) END;

	-- History is append-only and bitemporal: a (key, event time) whose values
	-- differ from its newest history row gets a new row, created now; nothing
	-- is updated or deleted, so re-running an unchanged window writes nothing
	-- and known_at can answer for any time.  Identical source rows for one key
	-- and event time count once; different ones are an error (bad_key).
	-- Values compare by their binary image (record_image_eq, the *= of
	-- records), which every type has.
	-- Online: the newest written row per key, only over an older one.
	sql := format($q$
WITH batch AS (
	SELECT %1$I, %10$s AS %2$I, %3$s FROM (
%4$s
	) AS fs_source
	WHERE %1$I IS NOT NULL AND %2$I IS NOT NULL
	  AND ($1 IS NULL OR %2$I >= $1) AND ($2 IS NULL OR %2$I < $2)
), ranked AS (
	SELECT fs_batch AS fs_row, pg_catalog.row_number() OVER w AS fs_n,
		   pg_catalog.record_image_eq(fs_batch, pg_catalog.first_value(fs_batch) OVER w) AS fs_same
	  FROM batch AS fs_batch
	WINDOW w AS (PARTITION BY fs_batch.%1$I, fs_batch.%2$I)
), fresh AS (
	SELECT r.fs_row, p.fs_same IS NOT NULL AS fs_revision FROM ranked AS r
	  LEFT JOIN LATERAL (SELECT pg_catalog.record_image_eq(ROW(%8$s), ROW(%9$s)) AS fs_same
						   FROM %5$s AS h
						  WHERE h.%1$I = (r.fs_row).%1$I AND h.%2$I = (r.fs_row).%2$I
						  ORDER BY h.fs_created_at DESC LIMIT 1) AS p ON true
	 WHERE r.fs_n = 1 AND p.fs_same IS NOT TRUE
), written AS (
	INSERT INTO %5$s AS h (%1$I, %2$I, fs_created_at, %3$s)
	SELECT (f.fs_row).%1$I, (f.fs_row).%2$I, $4, %11$s FROM fresh AS f
	RETURNING h.*
), latest AS (
	SELECT DISTINCT ON (%1$I) * FROM written ORDER BY %1$I, %2$I DESC, fs_created_at DESC
), online AS (
	INSERT INTO %6$s AS o (%1$I, %2$I, fs_created_at, %3$s)
	SELECT %1$I, %2$I, fs_created_at, %3$s FROM latest
	ON CONFLICT (%1$I) DO UPDATE SET %2$I = EXCLUDED.%2$I, fs_created_at = EXCLUDED.fs_created_at, %7$s
	WHERE (o.%2$I, o.fs_created_at) < (EXCLUDED.%2$I, EXCLUDED.fs_created_at)
	RETURNING 1
)
SELECT (SELECT pg_catalog.count(*) FROM batch), (SELECT pg_catalog.count(*) FROM written),
	   (SELECT pg_catalog.count(*) FROM online),
	   (SELECT pg_catalog.count(*) FROM fresh WHERE fs_revision),
	   bad.k, bad.t
  FROM (SELECT NULL) AS one
  LEFT JOIN (SELECT (r.fs_row).%1$I::text AS k, (r.fs_row).%2$I::text AS t FROM ranked AS r
			  WHERE NOT r.fs_same LIMIT 1) AS bad ON true
$q$,
		vv.key_column, vv.ts_column, feat_list, vv.source_query, hist, onl, set_list,
		(SELECT string_agg(format('h.%I', x), ', ') FROM unnest(names) x),
		(SELECT string_agg(format('(r.fs_row).%I', x), ', ') FROM unnest(names) x), stamp,
		(SELECT string_agg(format('(f.fs_row).%I', x), ', ') FROM unnest(names) x));
	token := fs_internal.begin_user_sql(run_as, vv.search_path);
	src := fs_internal.describe_source(format('source of feature view "%s"', vv.view_name), vv.source_query);
	PERFORM fs_internal.check_source_columns(vv, src.column_names, src.column_types);
	EXECUTE sql INTO rows_read, rows_written, online_rows, revised, bad_key, bad_time
		USING start, finish, vv.available_after, created;
	PERFORM fs_internal.end_user_sql(token);
	IF bad_key IS NOT NULL THEN
		RAISE EXCEPTION 'source of feature view "%" yields different rows for one key and event time', view
			USING ERRCODE = 'cardinality_violation',
				  DETAIL = format('The rows for %I = %s, %I = %s have different values.', vv.key_column, bad_key,
								  vv.ts_column, bad_time),
				  HINT = format('Make (%I, %I) unique in the source; identical rows count once.', vv.key_column,
								vv.ts_column);
	END IF;
	PERFORM fs_internal.write('record_run', vv.view_name, vv.version, start, finish, started, rows_read, rows_written,
							  online_rows, 'succeeded'::text, NULL::text, revised);
END;
$$;
COMMENT ON FUNCTION fs.materialize(text, timestamptz, timestamptz) IS
	'materializes the latest version of a feature view for the window start <= event time < finish, in one transaction';

-- Records a materialization run of a version; the caller must be allowed to
-- run it (a member of the view's owner role).
CREATE OR REPLACE FUNCTION fs_internal.w_record_run(caller regrole, view text, version int,
	window_start timestamptz, window_finish timestamptz, started timestamptz,
	rows_read bigint, rows_written bigint, online_rows bigint, status text, error text, rows_revised bigint)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	id bigint;
BEGIN
	IF NOT EXISTS (SELECT FROM fs.views v JOIN fs.view_versions vv ON vv.view_name = v.name
					WHERE v.name = w_record_run.view AND vv.version = w_record_run.version
					  AND pg_has_role(caller, v.owner_role, 'USAGE')) THEN
		RAISE EXCEPTION 'permission denied to record a run of feature view "%" version %', view, version
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	INSERT INTO fs.materialization_runs (view_name, version, window_start, window_finish, started_at, finished_at,
										 duration, rows_read, rows_written, online_rows, status, error, run_by,
										 rows_revised)
	VALUES (view, version, window_start, window_finish, started, clock_timestamp(), clock_timestamp() - started,
			rows_read, rows_written, online_rows, status, error, fs_internal.role_name(caller), rows_revised)
	RETURNING run_id INTO id;
	RETURN id;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_record_run(regrole, text, int, timestamptz, timestamptz, timestamptz, bigint, bigint,
	bigint, text, text, bigint) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_record_run(regrole, text, int, timestamptz, timestamptz, timestamptz, bigint, bigint,
	bigint, text, text, bigint) IS 'internal catalog operation: records a materialization run';

-- from src/sql/worker.sql

------------------------------------------------------------------------------
-- The background worker (src/worker.c): schedules, runs, freshness, metrics
------------------------------------------------------------------------------

-- The launcher (one process, connected as the bootstrap superuser) calls
-- fs_internal.worker_tick once per tick: it starts a run of each due version
-- (fs_internal.w_start_run records it "running" and commits) and returns
-- their ids.  Each run gets a background worker of its own, which switches
-- its session to the view's owner role, claims the run (w_claim_run), runs
-- fs_internal.run_scheduled and commits, or records the failure in a new
-- transaction (w_finish_run).  Runs whose worker died are failed by the
-- launcher (w_fail_runs); history past feature_store.run_retention is pruned
-- (w_prune_runs).

-- Every version with the worker's view of it: its schedule, the view's
-- options with their defaults, and its state.  "scheduled" says whether the
-- worker keeps it fresh: fs.materialize runs only a view's latest version,
-- so only latest versions are scheduled.
CREATE OR REPLACE VIEW fs_internal.version_schedule AS
SELECT vv.view_name, vv.version, vv.created_at, v.schedule, v.owner_role,
	   l.is_latest,
	   v.schedule IS NOT NULL AND l.is_latest AS scheduled,
	   coalesce(o.paused, false) AS paused,
	   coalesce(o.lateness, interval '1 hour') AS lateness,
	   coalesce(o.reconcile_every, interval '1 day') AS reconcile_every,
	   coalesce(o.expected_freshness, 2 * v.schedule) AS expected_freshness,
	   s.high_water, s.last_success_at, s.last_full_at,
	   coalesce(s.consecutive_failures, 0) AS consecutive_failures, s.next_attempt_at, s.last_error, s.last_error_at
  FROM fs.view_versions vv
  JOIN fs.views v ON v.name = vv.view_name
  CROSS JOIN LATERAL (SELECT NOT EXISTS (SELECT FROM fs.view_versions x
										  WHERE x.view_name = vv.view_name AND x.version > vv.version) AS is_latest) l
  LEFT JOIN fs.view_options o ON o.view_name = vv.view_name
  LEFT JOIN fs.view_state s ON s.view_name = vv.view_name AND s.version = vv.version;
COMMENT ON VIEW fs_internal.version_schedule IS
	'internal: every feature view version with its schedule, worker options (defaults filled in) and worker state';

------------------------------------------------------------------------------
-- Options: pause, resume, lateness, reconciliation, expected freshness
------------------------------------------------------------------------------

-- Sets a view's worker options; a NULL argument leaves that option as it
-- is.  Resuming also lifts a failing view's retry delay, so it runs at the
-- next tick.
CREATE OR REPLACE FUNCTION fs_internal.w_set_view_options(caller regrole, view text, paused boolean,
	lateness interval, reconcile_every interval, expected_freshness interval)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	v fs.views;
BEGIN
	SELECT * INTO v FROM fs.views x WHERE x.name = w_set_view_options.view;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'feature view "%" does not exist', view USING ERRCODE = 'undefined_object';
	END IF;
	IF NOT pg_has_role(caller, v.owner_role, 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of feature view "%"', view USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF lateness < interval '0' THEN
		RAISE EXCEPTION 'lateness of feature view "%" must not be negative', view USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF reconcile_every <= interval '0' THEN
		RAISE EXCEPTION 'reconcile_every of feature view "%" must be positive', view USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF expected_freshness <= interval '0' THEN
		RAISE EXCEPTION 'expected_freshness of feature view "%" must be positive', view
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO fs.view_options AS o (view_name, paused, lateness, reconcile_every, expected_freshness)
	VALUES (v.name, coalesce(paused, false), lateness, reconcile_every, expected_freshness)
	ON CONFLICT (view_name) DO UPDATE SET
		paused = coalesce(w_set_view_options.paused, o.paused),
		lateness = coalesce(w_set_view_options.lateness, o.lateness),
		reconcile_every = coalesce(w_set_view_options.reconcile_every, o.reconcile_every),
		expected_freshness = coalesce(w_set_view_options.expected_freshness, o.expected_freshness),
		updated_at = now();
	IF NOT paused THEN
		UPDATE fs.view_state s SET next_attempt_at = NULL WHERE s.view_name = v.name AND s.next_attempt_at IS NOT NULL;
	END IF;
	RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_set_view_options(regrole, text, boolean, interval, interval, interval) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_set_view_options(regrole, text, boolean, interval, interval, interval) IS
	'internal catalog operation: sets the worker options of a feature view';

CREATE OR REPLACE FUNCTION fs.set_feature_view_options(view text, lateness interval DEFAULT NULL,
	reconcile_every interval DEFAULT NULL, expected_freshness interval DEFAULT NULL) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
BEGIN
	PERFORM fs_internal.write('set_view_options', view, NULL::boolean, lateness, reconcile_every, expected_freshness);
END;
$$;
COMMENT ON FUNCTION fs.set_feature_view_options(text, interval, interval, interval) IS
	'sets how the worker keeps a feature view fresh: allowed lateness of incremental runs (default 1 hour), period of full reconciliations (default 1 day), expected freshness (default twice the schedule); NULL leaves an option unchanged';

CREATE OR REPLACE FUNCTION fs.pause_feature_view(view text) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
BEGIN
	PERFORM fs_internal.write('set_view_options', view, true, NULL::interval, NULL::interval, NULL::interval);
END;
$$;
COMMENT ON FUNCTION fs.pause_feature_view(text) IS
	'stops the worker from starting runs of a feature view (a run in progress finishes)';

CREATE OR REPLACE FUNCTION fs.resume_feature_view(view text) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
BEGIN
	PERFORM fs_internal.write('set_view_options', view, false, NULL::interval, NULL::interval, NULL::interval);
END;
$$;
COMMENT ON FUNCTION fs.resume_feature_view(text) IS
	'lets the worker run a paused feature view again; a failing view is retried at the next tick';

------------------------------------------------------------------------------
-- Runs: start, claim, finish, fail, prune
------------------------------------------------------------------------------

-- The worker's tick, its base retry delay.
CREATE OR REPLACE FUNCTION fs_internal.naptime() RETURNS interval
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$ SELECT coalesce(current_setting('feature_store.naptime', true), '10s')::interval $$;
COMMENT ON FUNCTION fs_internal.naptime() IS 'internal: the worker''s tick (feature_store.naptime)';

-- How long to wait before retrying after the n-th consecutive failure: the
-- tick doubled with every failure, capped at an hour, with jitter (half to
-- all of it) so that views failing together do not retry in lockstep.
CREATE OR REPLACE FUNCTION fs_internal.retry_delay(failures int) RETURNS interval
LANGUAGE sql VOLATILE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
	SELECT least(interval '1 hour', fs_internal.naptime() * power(2, least(greatest(failures, 1) - 1, 20)))
		   * (0.5 + 0.5 * random())
$$;
COMMENT ON FUNCTION fs_internal.retry_delay(int) IS
	'internal: retry delay after consecutive failures (exponential from the tick, capped at an hour, with jitter)';

-- Whether a role may start and fail runs for everyone: the launcher, which
-- runs as the bootstrap superuser.
CREATE OR REPLACE FUNCTION fs_internal.check_worker_role(caller regrole, what text) RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
BEGIN
	IF NOT coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.oid = caller), false) THEN
		RAISE EXCEPTION 'permission denied to %', what
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'Only the feature_store background worker (a superuser) does this.';
	END IF;
END;
$$;
COMMENT ON FUNCTION fs_internal.check_worker_role(regrole, text) IS
	'internal: errors unless the role is a superuser (the background worker)';

-- Starts the scheduled run of a version: records it "running", with the
-- window it reads (NULL, a full run, when the version has no high-water mark
-- or its reconciliation is due; otherwise event times from the high-water
-- mark, or now if that is later, minus the allowed lateness).  Returns the
-- run id, or NULL when the version is not due a run (dropped, unscheduled,
-- paused, or running).
CREATE OR REPLACE FUNCTION fs_internal.w_start_run(caller regrole, view text, version int) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	s fs_internal.version_schedule;
	full_run boolean;
	id bigint;
BEGIN
	PERFORM fs_internal.check_worker_role(caller, 'start scheduled runs');
	SELECT * INTO s FROM fs_internal.version_schedule x WHERE x.view_name = w_start_run.view AND x.version = w_start_run.version;
	IF NOT FOUND OR NOT s.scheduled OR s.paused THEN
		RETURN NULL;
	END IF;
	INSERT INTO fs.view_state (view_name, version) VALUES (view, version) ON CONFLICT DO NOTHING;
	PERFORM FROM fs.view_state x WHERE x.view_name = w_start_run.view AND x.version = w_start_run.version FOR UPDATE;
	IF EXISTS (SELECT FROM fs.materialization_runs r
				WHERE r.view_name = w_start_run.view AND r.version = w_start_run.version AND r.status = 'running') THEN
		RETURN NULL;
	END IF;
	full_run := s.high_water IS NULL OR s.last_full_at IS NULL OR s.last_full_at + s.reconcile_every <= now();
	INSERT INTO fs.materialization_runs (view_name, version, window_start, window_finish, started_at, status, trigger, run_by)
	VALUES (view, version, CASE WHEN NOT full_run THEN least(s.high_water, now()) - s.lateness END, NULL,
			clock_timestamp(), 'running', 'worker', s.owner_role)
	RETURNING run_id INTO id;
	RETURN id;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_start_run(regrole, text, int) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_start_run(regrole, text, int) IS
	'internal catalog operation: records the start of a scheduled run of a feature view version';

-- The run, locked, after checking that the caller may act for its view's owner.
CREATE OR REPLACE FUNCTION fs_internal.lock_run(caller regrole, run_id bigint) RETURNS fs.materialization_runs
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	r fs.materialization_runs;
	owner regrole;
BEGIN
	SELECT * INTO r FROM fs.materialization_runs x WHERE x.run_id = lock_run.run_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'materialization run % does not exist', run_id USING ERRCODE = 'undefined_object';
	END IF;
	-- a run of a dropped view is only the worker's (a superuser's) to end
	owner := fs_internal.view_owner(r.view_name);
	IF NOT (CASE WHEN owner IS NULL THEN coalesce((SELECT x.rolsuper FROM pg_roles x WHERE x.oid = caller), false)
				 ELSE pg_has_role(caller, owner, 'USAGE') END) THEN
		RAISE EXCEPTION 'permission denied for materialization run % of feature view "%"', run_id, r.view_name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN r;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.lock_run(regrole, bigint) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.lock_run(regrole, bigint) IS
	'internal: locks a materialization run the caller may act on (as a member of its view''s owner role)';

-- A run's worker process takes it: records its pid, if the run is a
-- scheduled one still running and not taken.  Returns the run id, or NULL.
CREATE OR REPLACE FUNCTION fs_internal.w_claim_run(caller regrole, run_id bigint, pid int) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	r fs.materialization_runs := fs_internal.lock_run(caller, run_id);
BEGIN
	IF r.status <> 'running' OR r.trigger <> 'worker' OR r.pid IS NOT NULL THEN
		RETURN NULL;
	END IF;
	UPDATE fs.materialization_runs x SET pid = w_claim_run.pid WHERE x.run_id = r.run_id;
	RETURN r.run_id;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_claim_run(regrole, bigint, int) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_claim_run(regrole, bigint, int) IS
	'internal catalog operation: a worker process takes a scheduled run';

-- Ends a running run, and updates its version's state: on success the
-- high-water mark, last success (and last full run), and the failure count
-- reset; on failure the error, the failure count and the time of the next
-- attempt (fs_internal.retry_delay).  Called by the catalog operations below.
CREATE OR REPLACE FUNCTION fs_internal.end_run(r fs.materialization_runs, succeeded boolean, error text,
	rows_read bigint, rows_written bigint, online_rows bigint, high_water timestamptz) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	finished timestamptz := clock_timestamp();
BEGIN
	UPDATE fs.materialization_runs x
	   SET status = CASE WHEN succeeded THEN 'succeeded' ELSE 'failed' END, finished_at = finished,
		   duration = finished - x.started_at, rows_read = end_run.rows_read, rows_written = end_run.rows_written,
		   online_rows = end_run.online_rows, error = end_run.error
	 WHERE x.run_id = r.run_id;
	IF succeeded THEN
		UPDATE fs.view_state s
		   SET high_water = greatest(s.high_water, end_run.high_water), last_success_at = r.started_at,
			   last_full_at = CASE WHEN r.window_start IS NULL AND r.window_finish IS NULL THEN r.started_at
								   ELSE s.last_full_at END,
			   consecutive_failures = 0, next_attempt_at = NULL, last_run_id = r.run_id,
			   last_duration = finished - r.started_at, runs_total = s.runs_total + 1,
			   rows_written_total = s.rows_written_total + coalesce(end_run.rows_written, 0)
		 WHERE s.view_name = r.view_name AND s.version = r.version;
	ELSE
		UPDATE fs.view_state s
		   SET consecutive_failures = s.consecutive_failures + 1,
			   next_attempt_at = finished + fs_internal.retry_delay(s.consecutive_failures + 1),
			   last_error = end_run.error, last_error_at = finished, last_run_id = r.run_id,
			   last_duration = finished - r.started_at, runs_total = s.runs_total + 1,
			   failures_total = s.failures_total + 1
		 WHERE s.view_name = r.view_name AND s.version = r.version;
	END IF;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.end_run(fs.materialization_runs, boolean, text, bigint, bigint, bigint, timestamptz)
	FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.end_run(fs.materialization_runs, boolean, text, bigint, bigint, bigint, timestamptz) IS
	'internal: ends a running materialization run and updates its version''s worker state';

-- A run's worker process finishes it: succeeded (with its counts and the
-- version's newest event time) or failed (with the error).  Errors unless the
-- run is still running.
CREATE OR REPLACE FUNCTION fs_internal.w_finish_run(caller regrole, run_id bigint, succeeded boolean, error text,
	rows_read bigint, rows_written bigint, online_rows bigint, high_water timestamptz) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	r fs.materialization_runs := fs_internal.lock_run(caller, run_id);
BEGIN
	IF r.status <> 'running' THEN
		RAISE EXCEPTION 'materialization run % of feature view "%" is not running', run_id, r.view_name
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = format('Its status is %s.', r.status);
	END IF;
	IF succeeded THEN
		-- fs.materialize has recorded what it just did as a run of its own, in
		-- this transaction: this run stands for it.  That record is the
		-- version's newest run: fs.materialize holds the version's lock until
		-- this transaction ends, so no other run of it can be recorded after
		-- it; and it was written by this transaction (or a subtransaction of
		-- it), so its xmin is not older than this transaction's xid.
		DELETE FROM fs.materialization_runs x
		 WHERE x.run_id = (SELECT max(y.run_id) FROM fs.materialization_runs y
							WHERE y.view_name = r.view_name AND y.version = r.version AND y.run_id > r.run_id)
		   AND x.trigger = 'manual' AND x.status = 'succeeded' AND pg_catalog.age(x.xmin) <= 0;
	END IF;
	PERFORM fs_internal.end_run(r, succeeded, error, rows_read, rows_written, online_rows, high_water);
	RETURN r.run_id;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_finish_run(regrole, bigint, boolean, text, bigint, bigint, bigint, timestamptz)
	FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_finish_run(regrole, bigint, boolean, text, bigint, bigint, bigint, timestamptz) IS
	'internal catalog operation: records the outcome of a scheduled run';

-- Fails those of the listed scheduled runs left "running" by a worker
-- process that is gone (crashed, killed, or never started).  A run whose
-- process is alive is left alone.  Returns how many failed.
CREATE OR REPLACE FUNCTION fs_internal.w_fail_runs(caller regrole, runs bigint[], reason text) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	r fs.materialization_runs;
	n bigint := 0;
BEGIN
	PERFORM fs_internal.check_worker_role(caller, 'fail scheduled runs');
	FOR r IN SELECT * FROM fs.materialization_runs x
			  WHERE x.status = 'running' AND x.trigger = 'worker' AND x.run_id = ANY (runs)
				AND NOT EXISTS (SELECT FROM pg_stat_activity a
								 WHERE a.pid = x.pid AND a.backend_type = 'feature_store job')
			  ORDER BY x.run_id
			  FOR UPDATE
	LOOP
		CONTINUE WHEN r.status <> 'running';
		PERFORM fs_internal.end_run(r, false, reason, NULL, NULL, NULL, NULL);
		n := n + 1;
	END LOOP;
	RETURN n;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_fail_runs(regrole, bigint[], text) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_fail_runs(regrole, bigint[], text) IS
	'internal catalog operation: fails scheduled runs whose worker process is gone';

-- Deletes run history older than keep (feature_store.run_retention).
CREATE OR REPLACE FUNCTION fs_internal.w_prune_runs(caller regrole, keep interval) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	n bigint;
BEGIN
	PERFORM fs_internal.check_worker_role(caller, 'prune the run history');
	DELETE FROM fs.materialization_runs x
	 WHERE x.status <> 'running' AND coalesce(x.finished_at, x.started_at) < now() - keep;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_prune_runs(regrole, interval) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_prune_runs(regrole, interval) IS
	'internal catalog operation: deletes materialization runs that finished longer ago than the retention';

------------------------------------------------------------------------------
-- What the launcher and the job workers run
------------------------------------------------------------------------------

-- The launcher's tick: starts a run of each due version, at most slots of
-- them, the longest overdue first, and returns them.  A version is due when
-- it is scheduled and not paused, its schedule has passed since its last
-- successful run started, its retry delay has passed, and it is not running.
CREATE OR REPLACE FUNCTION fs_internal.worker_tick(slots int)
RETURNS TABLE (run_id bigint, view text, version int)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	d record;
BEGIN
	FOR d IN
		SELECT s.view_name, s.version FROM fs_internal.version_schedule s
		 WHERE s.scheduled AND NOT s.paused
		   AND (s.last_success_at IS NULL OR s.last_success_at + s.schedule <= now())
		   AND (s.next_attempt_at IS NULL OR s.next_attempt_at <= now())
		   AND NOT EXISTS (SELECT FROM fs.materialization_runs r
							WHERE r.view_name = s.view_name AND r.version = s.version AND r.status = 'running')
		 ORDER BY greatest(s.last_success_at + s.schedule, s.next_attempt_at) NULLS FIRST, s.view_name, s.version
		 LIMIT slots
	LOOP
		run_id := fs_internal.write('start_run', d.view_name, d.version);
		CONTINUE WHEN run_id IS NULL;
		view := d.view_name;
		version := d.version;
		RETURN NEXT;
	END LOOP;
END;
$$;
COMMENT ON FUNCTION fs_internal.worker_tick(int) IS
	'internal: the background worker''s tick: starts the runs of due feature view versions and returns them';

-- A scheduled run, as its worker process runs it (as the view's owner):
-- materializes the run's window, reads the version's newest event time from
-- its online table (it holds the newest row of each key), and records the
-- outcome, all in the caller's transaction.
CREATE OR REPLACE FUNCTION fs_internal.run_scheduled(run bigint) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	r fs.materialization_runs;
	vv fs.view_versions;
	m record;
	newest timestamptz;
BEGIN
	SELECT * INTO r FROM fs.materialization_runs x WHERE x.run_id = run;
	IF NOT FOUND OR r.status <> 'running' THEN
		RAISE EXCEPTION 'materialization run % is not running', run USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	vv := fs_internal.view_version(r.view_name, r.version);
	SELECT * INTO m FROM fs.materialize(r.view_name, r.window_start, r.window_finish);
	IF m.version <> r.version THEN
		RAISE EXCEPTION 'feature view "%" version % is no longer its latest version', r.view_name, r.version
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = format('Version %s was registered after this run started; the worker runs the latest version.',
								  m.version);
	END IF;
	EXECUTE format('SELECT pg_catalog.max(%I)::timestamptz FROM %s', vv.ts_column, fs_internal.storage_rel(vv, true))
		INTO newest;
	PERFORM fs_internal.write('finish_run', run, true, NULL::text, m.rows_read, m.rows_written, m.online_rows, newest);
END;
$$;
COMMENT ON FUNCTION fs_internal.run_scheduled(bigint) IS
	'internal: runs a scheduled materialization run and records its outcome (the background worker''s job)';

------------------------------------------------------------------------------
-- Monitoring
------------------------------------------------------------------------------

CREATE OR REPLACE VIEW fs.feature_freshness AS
SELECT s.view_name AS view, s.version, s.schedule, s.scheduled, s.paused,
	   m.last_success_at,
	   s.high_water AS newest_event_time,
	   pg_catalog.now() - m.last_success_at AS lag,
	   pg_catalog.now() - s.high_water AS event_lag,
	   s.expected_freshness,
	   CASE WHEN s.scheduled AND NOT s.paused
			THEN coalesce(m.last_success_at, s.created_at) + s.expected_freshness < pg_catalog.now() END AS breach,
	   s.consecutive_failures, s.last_error, s.last_error_at, s.next_attempt_at,
	   EXISTS (SELECT FROM fs.materialization_runs r
				WHERE r.view_name = s.view_name AND r.version = s.version AND r.status = 'running') AS running
  FROM fs_internal.version_schedule s
  CROSS JOIN LATERAL (
	SELECT greatest(s.last_success_at,
							   (SELECT pg_catalog.max(r.started_at) FROM fs.materialization_runs r
								 WHERE r.view_name = s.view_name AND r.version = s.version
								   AND r.status = 'succeeded')) AS last_success_at) m;
COMMENT ON VIEW fs.feature_freshness IS
	'per feature view version: last successful materialization, newest event time materialized by the worker, lag, expected freshness and whether it is breached, failures';
GRANT SELECT ON fs.feature_freshness TO PUBLIC;

-- Prometheus label set {k="v",...} from name/value pairs, values escaped.
CREATE OR REPLACE FUNCTION fs_internal.prometheus_labels(VARIADIC pairs text[]) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
AS $$
	SELECT '{' || string_agg(format('%s="%s"', pairs[i],
									replace(replace(replace(pairs[i + 1], E'\\', E'\\\\'), '"', E'\\"'), E'\n', E'\\n')),
							 ',' ORDER BY i) || '}'
	  FROM generate_series(1, cardinality(pairs) - 1, 2) i
$$;
COMMENT ON FUNCTION fs_internal.prometheus_labels(text[]) IS 'internal: a Prometheus label set from name/value pairs';

CREATE OR REPLACE FUNCTION fs.metrics() RETURNS text
LANGUAGE sql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog
AS $$
WITH families (ord, name, type, help) AS (VALUES
	(1, 'fs_worker_up', 'gauge', 'Whether the feature_store background worker is running in this database.'),
	(2, 'fs_materialization_runs_total', 'counter', 'Scheduled materialization runs finished, succeeded or failed.'),
	(3, 'fs_materialization_failures_total', 'counter', 'Scheduled materialization runs that failed.'),
	(4, 'fs_materialization_rows_written_total', 'counter', 'History rows written by scheduled materialization runs.'),
	(5, 'fs_materialization_consecutive_failures', 'gauge', 'Scheduled runs that failed since the last success.'),
	(6, 'fs_materialization_last_duration_seconds', 'gauge', 'Duration of the last scheduled run.'),
	(7, 'fs_feature_view_last_success_timestamp_seconds', 'gauge', 'Start of the last successful materialization (Unix time).'),
	(8, 'fs_feature_view_lag_seconds', 'gauge', 'Time since the last successful materialization started.'),
	(9, 'fs_feature_view_event_lag_seconds', 'gauge', 'Time since the newest event time the worker materialized.'),
	(10, 'fs_feature_view_expected_freshness_seconds', 'gauge', 'Lag beyond which the feature view is stale.'),
	(11, 'fs_feature_view_freshness_breach', 'gauge', '1 when a scheduled feature view is staler than expected.'),
	(12, 'fs_drift_alerts_total', 'counter', 'Drift breaches found by drift monitors, by severity.')
), versions AS (
	SELECT f.*, coalesce(s.runs_total, 0) AS runs_total, coalesce(s.failures_total, 0) AS failures_total,
		   coalesce(s.rows_written_total, 0) AS rows_written_total, s.last_duration,
		   fs_internal.prometheus_labels('view', f.view, 'version', f.version::text) AS labels
	  FROM fs.feature_freshness f
	  LEFT JOIN fs.view_state s ON s.view_name = f.view AND s.version = f.version
), samples (name, labels, value) AS (
	-- (the backend type of another role's session is visible only with
	-- pg_read_all_stats; its application name to everyone)
	SELECT 'fs_worker_up', '', (EXISTS (SELECT FROM pg_stat_activity a
										 WHERE a.application_name = 'feature_store launcher'
										   AND coalesce(a.backend_type, 'feature_store launcher') = 'feature_store launcher'
										   AND a.datname = current_database()))::int::text
	UNION ALL SELECT 'fs_materialization_runs_total', labels, runs_total::text FROM versions WHERE scheduled OR runs_total > 0
	UNION ALL SELECT 'fs_materialization_failures_total', labels, failures_total::text FROM versions WHERE scheduled OR runs_total > 0
	UNION ALL SELECT 'fs_materialization_rows_written_total', labels, rows_written_total::text FROM versions WHERE scheduled OR runs_total > 0
	UNION ALL SELECT 'fs_materialization_consecutive_failures', labels, consecutive_failures::text FROM versions WHERE scheduled OR runs_total > 0
	UNION ALL SELECT 'fs_materialization_last_duration_seconds', labels, extract(epoch FROM last_duration)::text
				FROM versions WHERE last_duration IS NOT NULL
	UNION ALL SELECT 'fs_feature_view_last_success_timestamp_seconds', labels, extract(epoch FROM last_success_at)::text
				FROM versions WHERE last_success_at IS NOT NULL
	UNION ALL SELECT 'fs_feature_view_lag_seconds', labels, extract(epoch FROM lag)::text FROM versions WHERE lag IS NOT NULL
	UNION ALL SELECT 'fs_feature_view_event_lag_seconds', labels, extract(epoch FROM event_lag)::text
				FROM versions WHERE event_lag IS NOT NULL
	UNION ALL SELECT 'fs_feature_view_expected_freshness_seconds', labels, extract(epoch FROM expected_freshness)::text
				FROM versions WHERE expected_freshness IS NOT NULL
	UNION ALL SELECT 'fs_feature_view_freshness_breach', labels, breach::int::text FROM versions WHERE breach IS NOT NULL
	UNION ALL SELECT 'fs_drift_alerts_total', fs_internal.prometheus_labels('monitor', a.monitor, 'severity', a.severity),
					 count(*)::text
				FROM fs.drift_alerts a GROUP BY a.monitor, a.severity
)
SELECT string_agg(format(E'# HELP %1$s %2$s\n# TYPE %1$s %3$s\n', f.name, f.help, f.type)
				  || coalesce((SELECT string_agg(format(E'%s%s %s\n', s.name, s.labels, s.value), '' ORDER BY s.labels)
								 FROM samples s WHERE s.name = f.name), ''),
				  '' ORDER BY f.ord)
  FROM families f
$$;
COMMENT ON FUNCTION fs.metrics() IS
	'worker and freshness metrics in the Prometheus text exposition format (runs, failures, rows written, last success, lag, drift alerts)';

-- from src/sql/online.sql

------------------------------------------------------------------------------
-- Feature resolution and online reads
------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION fs.resolve_features(refs fs.feature_ref[])
RETURNS TABLE (ref text, view text, version int, feature text, type regtype)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
	r fs.feature_ref;
	vv fs.view_versions;
	f text;
	pinned int;
BEGIN
	IF refs IS NULL OR cardinality(refs) = 0 THEN
		RAISE EXCEPTION 'no features requested' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOREACH r IN ARRAY refs LOOP
		IF r IS NULL THEN
			RAISE EXCEPTION 'feature reference must not be null' USING ERRCODE = 'null_value_not_allowed';
		END IF;
		pinned := fs.ref_version(r);
		vv := fs_internal.view_version(fs.ref_view(r), pinned);
		f := fs.ref_feature(r);
		IF f IS NOT NULL AND NOT EXISTS (SELECT FROM fs.view_features x
										  WHERE x.view_name = vv.view_name AND x.version = vv.version AND x.name = f) THEN
			RAISE EXCEPTION 'feature view "%" version % has no feature "%"', vv.view_name, vv.version, f
				USING ERRCODE = 'undefined_column',
					  HINT = (SELECT format('Its features are %s.', string_agg(x.name, ', ' ORDER BY x.position))
								FROM fs.view_features x WHERE x.view_name = vv.view_name AND x.version = vv.version);
		END IF;
		RETURN QUERY
			SELECT fs.feature_ref(vv.view_name, x.name, pinned)::text, vv.view_name, vv.version, x.name, x.type
			  FROM fs.view_features x
			 WHERE x.view_name = vv.view_name AND x.version = vv.version AND (x.name = f OR f IS NULL)
			 ORDER BY x.position;
	END LOOP;
END;
$$;
COMMENT ON FUNCTION fs.resolve_features(fs.feature_ref[]) IS
	'resolves feature references to concrete (view, version, feature) rows in request order; view:* expands';

-- The online reads are C functions (src/online.c): they resolve the
-- references once per catalog change and probe the online tables' primary
-- keys directly.
CREATE OR REPLACE FUNCTION fs.online_features(features fs.feature_ref[], keys anyarray)
RETURNS TABLE (key anyelement, features jsonb)
	AS 'MODULE_PATHNAME', 'fs_online_features' LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL RESTRICTED ROWS 10;
COMMENT ON FUNCTION fs.online_features(fs.feature_ref[], anyarray) IS
	'latest feature values for each key, in request order; missing keys and values older than the TTL are JSON null';

CREATE OR REPLACE FUNCTION fs.online_features_typed(features fs.feature_ref[], keys anyarray)
RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'fs_online_features_typed' LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL RESTRICTED ROWS 10;
COMMENT ON FUNCTION fs.online_features_typed(fs.feature_ref[], anyarray) IS
	'fs.online_features with typed columns: use with a column definition list (key, then one column per feature)';

-- The same C function under its former internal name.
CREATE OR REPLACE FUNCTION fs_internal.online_lookup(refs fs.feature_ref[], keys anyarray)
RETURNS TABLE (key anyelement, features jsonb)
	AS 'MODULE_PATHNAME', 'fs_online_lookup' LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL RESTRICTED ROWS 10;
COMMENT ON FUNCTION fs_internal.online_lookup(fs.feature_ref[], anyarray) IS
	'internal: fs.online_features under its former name (no longer used)';

-- from src/sql/retrieval.sql

------------------------------------------------------------------------------
-- Historical (point-in-time) retrieval
------------------------------------------------------------------------------

-- fs.historical_features returns SQL, it does not run it: the text goes to
-- \gexec, a view, a dbt model or CREATE TABLE AS.  The SQL is one LEFT JOIN
-- per feature view version from the spine, each on
--     view key = spine key AND spine time @> view time (@>= when strict is false)
--     AND view time >= spine time - view TTL       (when the view has a TTL)
--     AND view fs_created_at <= spine time         (when known_at)
-- so every spine row yields exactly one output row.  Names are resolved now:
-- a reference without @N means the latest version at generation time, and
-- the storage tables are written fully qualified.
--
-- strict defaults to true: a feature row stamped at the very instant of a
-- spine row is not used for it (such a row often already contains the
-- labelled event, e.g. a count that includes the transaction being
-- labelled).  strict => false gives the inclusive "event time <= spine time"
-- match of most feature stores.
--
-- Spine and event times of different types follow one rule, the same one
-- hand-written as-of joins follow (README "One rule for event times"), and
-- never the session's time zone: a date is the midnight that starts it (as
-- date::timestamp has it); timestamptz against timestamp or date needs the
-- zone the latter are in (time_zone => 'UTC'), which hand-written joins
-- spell with AT TIME ZONE.  fs_internal.asof_time_condition writes the
-- condition; it keeps the view's time column bare (the spine side carries
-- any conversion), so the as-of join can read the view's index.
--
-- Output columns are named view__feature.  A feature requested from several
-- versions of its view (spend@1:amount and spend@2:amount) keeps that name
-- for the first version requested; the others are named view_vN__feature
-- (spend_v2__amount).
--
-- known_at => true keeps only rows materialized (fs_created_at) by the spine
-- time, so values backfilled later cannot leak into older spine rows; a spine
-- time of type timestamp or date needs time_zone for that comparison too.
--
-- History is bitemporal: a revised value is a new row for the same key and
-- event time.  Retrieval takes, for the event time it chooses, the newest
-- created row (with known_at, the newest created by the spine time).  Once a
-- run has revised rows of a version (materialization_runs.rows_revised), the
-- join says so itself, since the as-of join breaks ties on event time in the
-- order its strategy reads the rows (README "Append-only history"):
--     AND view fs_created_at = (SELECT max(fs_created_at) of the view's rows
--                               with the spine's key and that event time
--                               [created by the spine time, with known_at])
-- which leaves one candidate per event time.

-- The as-of condition between a spine time (an SQL expression of type
-- spine_type) and a feature view's time column (feature_ts, of type
-- feature_type), and the condition of the view's TTL (NULL without one): the
-- rule above.  Refuses a pair that needs a zone when time_zone is NULL.
CREATE OR REPLACE FUNCTION fs_internal.asof_time_condition(spine_ts text, spine_type regtype, feature_ts text,
	feature_type regtype, strict boolean, ttl interval, time_zone text, OUT asof text, OUT ttl_condition text)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
SET intervalstyle = postgres	-- TTL literals read the same under any style
AS $$
DECLARE
	t text := spine_ts;			-- the spine time, as an operand ...
	tt regtype := spine_type;	-- ... of this type
BEGIN
	IF spine_type <> ALL (fs_internal.time_types()) OR feature_type <> ALL (fs_internal.time_types()) THEN
		RAISE EXCEPTION 'as-of times must be timestamptz, timestamp or date, not % and %', spine_type, feature_type
			USING ERRCODE = 'datatype_mismatch';
	END IF;
	-- timestamptz against timestamp or date: the latter read in time_zone
	IF (tt = 'timestamptz'::regtype) <> (feature_type = 'timestamptz'::regtype) THEN
		IF time_zone IS NULL THEN
			RAISE EXCEPTION 'comparing % with % needs a time zone', spine_type, feature_type
				USING ERRCODE = 'datatype_mismatch';
		END IF;
		IF tt = 'date'::regtype THEN
			t := format('%s::timestamp', t);
		END IF;
		t := format('(%s AT TIME ZONE %L)', t, time_zone);
		tt := CASE WHEN tt = 'timestamptz'::regtype THEN 'timestamp' ELSE 'timestamptz' END;
	END IF;
	-- timestamp against date: a date is the midnight that starts it
	IF tt = 'date'::regtype AND feature_type = 'timestamp'::regtype THEN
		t := format('%s::timestamp', t);
		tt := 'timestamp';
	END IF;
	IF tt = 'timestamp'::regtype AND feature_type = 'date'::regtype THEN
		-- For a feature day d: d 00:00 <= t when d <= t::date, and d 00:00 < t
		-- when d is before t rounded up to a whole day; the view's date column
		-- stays bare (its index serves the join).
		asof := CASE WHEN strict
					 THEN format('(%1$s::date + (%1$s > %1$s::date)::int) @> %2$s', t, feature_ts)
					 ELSE format('%s::date @>= %s', t, feature_ts) END;
	ELSE
		asof := format('%s %s %s', t, CASE WHEN strict THEN '@>' ELSE '@>=' END, feature_ts);
	END IF;
	IF ttl IS NOT NULL THEN
		ttl_condition := format('%s >= %s - %L::interval', feature_ts, t, ttl);
	END IF;
END;
$$;
COMMENT ON FUNCTION fs_internal.asof_time_condition(text, regtype, text, regtype, boolean, interval, text) IS
	'internal: the as-of join condition (and TTL) between a spine time and a feature view''s time, by the one rule for event times';

-- The spine time as an instant (timestamptz), for comparisons with created
-- times: a timestamp or a date is read in time_zone, which it then needs.
CREATE OR REPLACE FUNCTION fs_internal.spine_instant(spine_ts text, spine_type regtype, time_zone text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
BEGIN
	IF spine_type = 'timestamptz'::regtype THEN
		RETURN spine_ts;
	END IF;
	IF time_zone IS NULL THEN
		RAISE EXCEPTION 'comparing % with timestamp with time zone needs a time zone', spine_type
			USING ERRCODE = 'datatype_mismatch';
	END IF;
	IF spine_type = 'date'::regtype THEN
		RETURN format('(%s::timestamp AT TIME ZONE %L)', spine_ts, time_zone);
	END IF;
	RETURN format('(%s AT TIME ZONE %L)', spine_ts, time_zone);
END;
$$;
COMMENT ON FUNCTION fs_internal.spine_instant(text, regtype, text) IS
	'internal: a spine time as timestamptz (a timestamp or date read in the given time zone)';

CREATE OR REPLACE FUNCTION fs_internal.historical_features(
	spine text,
	features fs.feature_ref[],
	key_column text,
	ts_column text,
	strict boolean,
	known_at boolean,
	time_zone text,
	search_path text
) RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
SET intervalstyle = postgres	-- TTL literals read the same under any style
AS $$
DECLARE
	token bigint;
	src record;
	spine_sql text;
	spine_cols text[];
	spine_key_t regtype;
	spine_ts_t regtype;
	time_types CONSTANT regtype[] := fs_internal.time_types();
	r record;
	alias text;
	aliases jsonb := '{}';
	n int := 0;
	out_name text;
	out_names text[] := '{}';
	origins jsonb := '{}';		-- output name -> [view, version] of the feature
	sel text := '';
	joins text := '';
	spine_ts text;
	spine_at text;
	cond record;
	histories jsonb := '[]';	-- [{view, version, rel}] per joined version
	latest_spine timestamptz;
	none_known boolean;
	v record;
	sql text;
	cur refcursor;
	line text;
BEGIN
	IF spine IS NULL OR btrim(spine) = '' THEN
		RAISE EXCEPTION 'spine must not be null or empty' USING ERRCODE = 'null_value_not_allowed',
			HINT = 'Pass a table or view name, or a SELECT query.';
	END IF;
	IF key_column IS NULL OR ts_column IS NULL THEN
		RAISE EXCEPTION 'key_column and ts_column must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF strict IS NULL OR known_at IS NULL THEN
		RAISE EXCEPTION 'strict and known_at must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF time_zone IS NOT NULL THEN
		PERFORM now() AT TIME ZONE time_zone;	-- an unknown zone is an error now
	END IF;

	-- The spine: a relation name or one SELECT, validated, planned (not run)
	-- and described in the caller's schemas, as feature view sources are.
	token := fs_internal.begin_user_sql(NULL, historical_features.search_path);
	src := fs_internal.describe_source('spine', spine);
	PERFORM fs_internal.end_user_sql(token);
	IF src.relation IS NOT NULL THEN
		spine_sql := src.relation || ' AS s';
	ELSIF src.query !~* '\mfrom\M' THEN
		-- A spine of constants (SELECT 1 AS k, ... or VALUES) would be folded
		-- into the join by the planner, leaving no key equality to join on:
		-- OFFSET 0 keeps it a relation of its own.
		spine_sql := format(E'(SELECT * FROM (\n%s\n) AS spine OFFSET 0) AS s', src.query);
	ELSE
		spine_sql := format(E'(\n%s\n) AS s', src.query);
	END IF;
	spine_cols := src.column_names;
	IF NOT key_column = ANY (spine_cols) THEN
		RAISE EXCEPTION 'spine has no key column "%"', key_column USING ERRCODE = 'undefined_column',
			HINT = format('Its columns are %s.', array_to_string(spine_cols, ', '));
	END IF;
	IF NOT ts_column = ANY (spine_cols) THEN
		RAISE EXCEPTION 'spine has no timestamp column "%"', ts_column USING ERRCODE = 'undefined_column',
			HINT = format('Its columns are %s.', array_to_string(spine_cols, ', '));
	END IF;
	spine_key_t := src.column_types[array_position(spine_cols, key_column)];
	spine_ts_t := src.column_types[array_position(spine_cols, ts_column)];
	IF NOT spine_ts_t = ANY (time_types) THEN
		RAISE EXCEPTION 'timestamp column "%" of the spine has type %', ts_column, spine_ts_t
			USING ERRCODE = 'datatype_mismatch', HINT = 'It must be timestamptz, timestamp or date.';
	END IF;
	spine_ts := format('s.%I', ts_column);
	IF known_at THEN
		IF spine_ts_t <> 'timestamptz'::regtype AND time_zone IS NULL THEN
			RAISE EXCEPTION 'known_at compares creation times with timestamp column "%" of the spine, of type %',
				ts_column, spine_ts_t
				USING ERRCODE = 'datatype_mismatch',
					  DETAIL = 'Which rows match would depend on the session''s time zone.',
					  HINT = 'Pass time_zone => ''UTC'' (the zone the spine''s times are in), or give the spine a timestamptz time.';
		END IF;
		spine_at := fs_internal.spine_instant(spine_ts, spine_ts_t, time_zone);
	END IF;
	out_names := spine_cols;

	FOR r IN
		SELECT rf.ref, rf.feature, rf.ord, vv.*
		  FROM fs.resolve_features(features) WITH ORDINALITY AS rf(ref, view, version, feature, type, ord)
		  JOIN fs.view_versions vv ON vv.view_name = rf.view AND vv.version = rf.version
		 ORDER BY rf.ord
	LOOP
		IF spine_key_t <> r.key_type AND NOT EXISTS (
			SELECT FROM pg_cast c WHERE c.castsource = spine_key_t AND c.casttarget = r.key_type
			   AND c.castcontext = 'i') THEN
			RAISE EXCEPTION 'key column "%" of the spine has type %, but feature view "%" has key type %',
				key_column, spine_key_t, r.view_name, r.key_type
				USING ERRCODE = 'datatype_mismatch', HINT = 'Cast the key column in the spine query.';
		END IF;
		out_name := r.view_name || '__' || r.feature;
		-- The same feature from a second version of its view: view_vN__feature.
		IF origins -> out_name ->> 0 = r.view_name AND (origins -> out_name ->> 1)::int <> r.version THEN
			out_name := format('%s_v%s__%s', r.view_name, r.version, r.feature);
		END IF;
		IF octet_length(out_name) > fs_internal.max_name_bytes() THEN
			RAISE EXCEPTION 'output column name "%" for feature "%" is too long', out_name, r.ref
				USING ERRCODE = 'name_too_long',
					  DETAIL = format('It is %s bytes long; the limit is %s.', octet_length(out_name), fs_internal.max_name_bytes());
		END IF;
		IF out_name = ANY (out_names) THEN
			RAISE EXCEPTION 'output column "%" for feature "%" would appear twice', out_name, r.ref
				USING ERRCODE = 'duplicate_column',
					  HINT = CASE WHEN out_name = ANY (spine_cols)
								  THEN 'Rename the spine column.'
								  ELSE 'Request each feature of a view version once.' END;
		END IF;
		out_names := out_names || out_name;
		origins := origins || jsonb_build_object(out_name, jsonb_build_array(r.view_name, r.version));

		-- One join per view version, in order of first appearance.
		alias := aliases ->> format('%s@%s', r.view_name, r.version);
		IF alias IS NULL THEN
			n := n + 1;
			alias := 'f' || n;
			aliases := aliases || jsonb_build_object(format('%s@%s', r.view_name, r.version), alias);
			histories := histories || jsonb_build_object('view', r.view_name, 'version', r.version,
				'rel', fs_internal.storage_rel(fs_internal.view_version(r.view_name, r.version), false)::oid);
			IF (spine_ts_t = 'timestamptz'::regtype) <> (r.ts_type = 'timestamptz'::regtype) AND time_zone IS NULL THEN
				RAISE EXCEPTION 'timestamp column "%" of the spine has type %, but feature view "%" has event times of type %',
					ts_column, spine_ts_t, r.view_name, r.ts_type
					USING ERRCODE = 'datatype_mismatch',
						  DETAIL = 'Which rows match would depend on the session''s time zone.',
						  HINT = format('Pass time_zone => ''UTC'' (the zone the %s are in), or cast the spine''s time in a spine query.',
										CASE WHEN spine_ts_t = 'timestamptz'::regtype
											 THEN format('feature view''s %ss', CASE r.ts_type WHEN 'date'::regtype THEN 'date' ELSE 'timestamp' END)
											 ELSE format('spine''s %ss', CASE spine_ts_t WHEN 'date'::regtype THEN 'date' ELSE 'timestamp' END) END);
			END IF;
			cond := fs_internal.asof_time_condition(spine_ts, spine_ts_t, format('%I.%I', alias, r.ts_column),
													r.ts_type, strict, r.ttl, time_zone);
			joins := joins || format(E'\n  LEFT JOIN %s AS %I\n    ON %I.%I = s.%I\n   AND %s',
									 fs_internal.storage_rel(fs_internal.view_version(r.view_name, r.version), false), alias, alias, r.key_column, key_column,
									 cond.asof);
			IF cond.ttl_condition IS NOT NULL THEN
				joins := joins || E'\n   AND ' || cond.ttl_condition;
			END IF;
			IF known_at THEN
				joins := joins || format(E'\n   AND %I.fs_created_at <= %s', alias, spine_at);
			END IF;
			IF fs_internal.history_revised(r.view_name, r.version) THEN
				joins := joins || format(E'\n   AND %1$I.fs_created_at = (SELECT pg_catalog.max(n.fs_created_at) FROM %2$s AS n'
										 || E'\n                            WHERE n.%3$I = s.%4$I AND n.%5$I = %1$I.%5$I%6$s)',
										 alias, fs_internal.storage_rel(fs_internal.view_version(r.view_name, r.version), false),
										 r.key_column, key_column, r.ts_column,
										 CASE WHEN known_at THEN format(' AND n.fs_created_at <= %s', spine_at) ELSE '' END);
			END IF;
		END IF;
		sel := sel || format(E',\n       %I.%I AS %I', alias, r.feature, out_name);
	END LOOP;

	sql := format(E'SELECT s.*%s\n  FROM %s%s', sel, spine_sql, joins);
	-- Plan it once as the caller would run it: a mistake shows up now.
	token := fs_internal.begin_user_sql(NULL, historical_features.search_path);
	OPEN cur FOR EXECUTE 'EXPLAIN ' || sql;
	FETCH cur INTO line;	-- a utility statement runs at its first fetch
	CLOSE cur;
	-- known_at over a history written entirely after every spine time (a
	-- backfill) answers NULL everywhere: say so.  The spine's latest time is
	-- one pass over it; the history is read until a row created by then.
	IF known_at THEN
		EXECUTE format('SELECT pg_catalog.max(%s) FROM %s', spine_at, spine_sql) INTO latest_spine;
		FOR v IN SELECT x.view, x.version, x.rel::regclass AS rel
				   FROM jsonb_to_recordset(histories) AS x(view text, version int, rel oid)
				  WHERE latest_spine IS NOT NULL LOOP
			EXECUTE format('SELECT EXISTS (SELECT FROM %s) AND NOT EXISTS (SELECT FROM %1$s WHERE fs_created_at <= $1)', v.rel)
				INTO none_known USING latest_spine;
			IF none_known THEN
				RAISE NOTICE 'known_at: every row of feature view "%" version % was created after the latest spine time, %',
					v.view, v.version, latest_spine
					USING DETAIL = 'Its features are NULL for every spine row: known_at sees a row only from its fs_created_at on.',
						  HINT = 'A history materialized after the fact (a backfill) is invisible to known_at; '
								 'retrieve it with known_at => false, or with spine times after it was materialized.';
			END IF;
		END LOOP;
	END IF;
	PERFORM fs_internal.end_user_sql(token);
	RETURN sql;
END;
$$;
COMMENT ON FUNCTION fs_internal.historical_features(text, fs.feature_ref[], text, text, boolean, boolean, text, text) IS
	'internal: fs.historical_features with the schemas the spine resolves in';

-- The public entry point captures the caller's schemas, in which the spine is
-- resolved (the generated SQL qualifies everything else).
CREATE OR REPLACE FUNCTION fs.historical_features(
	spine text,
	features fs.feature_ref[],
	key_column text,
	ts_column text,
	strict boolean DEFAULT true,
	known_at boolean DEFAULT false,
	time_zone text DEFAULT NULL
) RETURNS text
LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $$
	SELECT fs_internal.historical_features($1, $2, $3, $4, $5, $6, $7,
		(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(s), ', ' ORDER BY o)
		   FROM pg_catalog.unnest(pg_catalog.current_schemas(false)) WITH ORDINALITY AS u(s, o)))
$$;
COMMENT ON FUNCTION fs.historical_features(text, fs.feature_ref[], text, text, boolean, boolean, text) IS
	'point-in-time retrieval SQL: one row per spine row, spine columns then one view__feature column per feature; '
	'strict (default) excludes feature rows stamped at the spine instant, known_at only sees rows materialized by then, '
	'time_zone is the zone timestamps and dates are in where they meet timestamptz';

-- from src/sql/profile.sql

-- aggregate support
CREATE OR REPLACE FUNCTION fs_internal.profile_float8_sfunc(internal, float8) RETURNS internal
	AS 'MODULE_PATHNAME', 'profile_float8_sfunc' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION fs_internal.profile_numeric_sfunc(internal, numeric) RETURNS internal
	AS 'MODULE_PATHNAME', 'profile_numeric_sfunc' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION fs_internal.profile_text_sfunc(internal, text) RETURNS internal
	AS 'MODULE_PATHNAME', 'profile_text_sfunc' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION fs_internal.profile_merge_sfunc(internal, fs.profile) RETURNS internal
	AS 'MODULE_PATHNAME', 'profile_merge_sfunc' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION fs_internal.profile_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'profile_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION fs_internal.profile_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'profile_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION fs_internal.profile_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'profile_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION fs_internal.profile_final_numeric(internal) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_final_numeric' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION fs_internal.profile_final_text(internal) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_final_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION fs_internal.profile_final_merge(internal) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_final_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION fs_internal.profile_float8_sfunc(internal, float8) IS 'internal: transition of fs.profile(float8)';
COMMENT ON FUNCTION fs_internal.profile_numeric_sfunc(internal, numeric) IS 'internal: transition of fs.profile(numeric)';
COMMENT ON FUNCTION fs_internal.profile_text_sfunc(internal, text) IS 'internal: transition of fs.profile(text)';
COMMENT ON FUNCTION fs_internal.profile_merge_sfunc(internal, fs.profile) IS 'internal: transition of fs.profile_merge';
COMMENT ON FUNCTION fs_internal.profile_combine(internal, internal) IS 'internal: combines partial profile states';
COMMENT ON FUNCTION fs_internal.profile_serialize(internal) IS 'internal: a partial profile state as fs.profile bytes';
COMMENT ON FUNCTION fs_internal.profile_deserialize(bytea, internal) IS 'internal: a partial profile state from fs.profile bytes, validated';
COMMENT ON FUNCTION fs_internal.profile_final_numeric(internal) IS 'internal: final function of fs.profile(float8/numeric)';
COMMENT ON FUNCTION fs_internal.profile_final_text(internal) IS 'internal: final function of fs.profile(text)';
COMMENT ON FUNCTION fs_internal.profile_final_merge(internal) IS 'internal: final function of fs.profile_merge';

CREATE OR REPLACE AGGREGATE fs.profile(float8) (
	SFUNC = fs_internal.profile_float8_sfunc,
	STYPE = internal,
	COMBINEFUNC = fs_internal.profile_combine,
	SERIALFUNC = fs_internal.profile_serialize,
	DESERIALFUNC = fs_internal.profile_deserialize,
	FINALFUNC = fs_internal.profile_final_numeric,
	FINALFUNC_MODIFY = READ_ONLY,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE fs.profile(float8) IS
	'profile of a numeric column (int and real inputs arrive through float8)';

CREATE OR REPLACE AGGREGATE fs.profile(numeric) (
	SFUNC = fs_internal.profile_numeric_sfunc,
	STYPE = internal,
	COMBINEFUNC = fs_internal.profile_combine,
	SERIALFUNC = fs_internal.profile_serialize,
	DESERIALFUNC = fs_internal.profile_deserialize,
	FINALFUNC = fs_internal.profile_final_numeric,
	FINALFUNC_MODIFY = READ_ONLY,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE fs.profile(numeric) IS
	'profile of a numeric column, values profiled as float8';

CREATE OR REPLACE AGGREGATE fs.profile(text) (
	SFUNC = fs_internal.profile_text_sfunc,
	STYPE = internal,
	COMBINEFUNC = fs_internal.profile_combine,
	SERIALFUNC = fs_internal.profile_serialize,
	DESERIALFUNC = fs_internal.profile_deserialize,
	FINALFUNC = fs_internal.profile_final_text,
	FINALFUNC_MODIFY = READ_ONLY,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE fs.profile(text) IS
	'profile of a categorical column: exact counts of up to 10000 distinct values, then a hash sample with exact counts';

CREATE OR REPLACE AGGREGATE fs.profile_merge(fs.profile) (
	SFUNC = fs_internal.profile_merge_sfunc,
	STYPE = internal,
	COMBINEFUNC = fs_internal.profile_combine,
	SERIALFUNC = fs_internal.profile_serialize,
	DESERIALFUNC = fs_internal.profile_deserialize,
	FINALFUNC = fs_internal.profile_final_merge,
	FINALFUNC_MODIFY = READ_ONLY,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE fs.profile_merge(fs.profile) IS
	'merges stored profiles (e.g. daily into monthly); the same bytes as profiling all their rows at once';

-- accessors
CREATE OR REPLACE FUNCTION fs.profile_kind(fs.profile) RETURNS text
	AS 'MODULE_PATHNAME', 'profile_kind' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_kind(fs.profile) IS 'numeric or text';
CREATE OR REPLACE FUNCTION fs.profile_count(fs.profile) RETURNS bigint
	AS 'MODULE_PATHNAME', 'profile_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_count(fs.profile) IS 'number of non-NULL values (NaN and infinities included)';
CREATE OR REPLACE FUNCTION fs.profile_nulls(fs.profile) RETURNS bigint
	AS 'MODULE_PATHNAME', 'profile_nulls' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_nulls(fs.profile) IS 'number of NULL values';
CREATE OR REPLACE FUNCTION fs.profile_nan_count(fs.profile) RETURNS bigint
	AS 'MODULE_PATHNAME', 'profile_nan_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_nan_count(fs.profile) IS 'number of NaN values of a numeric profile';
CREATE OR REPLACE FUNCTION fs.profile_inf_count(fs.profile) RETURNS bigint
	AS 'MODULE_PATHNAME', 'profile_inf_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_inf_count(fs.profile) IS 'number of infinite values (either sign) of a numeric profile';
CREATE OR REPLACE FUNCTION fs.profile_mean(fs.profile) RETURNS float8
	AS 'MODULE_PATHNAME', 'profile_mean' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_mean(fs.profile) IS 'mean of the finite values, from their exact sum';
CREATE OR REPLACE FUNCTION fs.profile_stddev(fs.profile) RETURNS float8
	AS 'MODULE_PATHNAME', 'profile_stddev' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_stddev(fs.profile) IS 'sample standard deviation of the finite values (like stddev())';
CREATE OR REPLACE FUNCTION fs.profile_variance(fs.profile) RETURNS float8
	AS 'MODULE_PATHNAME', 'profile_variance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_variance(fs.profile) IS 'sample variance of the finite values (like variance())';
CREATE OR REPLACE FUNCTION fs.profile_min(fs.profile) RETURNS float8
	AS 'MODULE_PATHNAME', 'profile_min' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_min(fs.profile) IS 'smallest finite value';
CREATE OR REPLACE FUNCTION fs.profile_max(fs.profile) RETURNS float8
	AS 'MODULE_PATHNAME', 'profile_max' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_max(fs.profile) IS 'largest finite value';
CREATE OR REPLACE FUNCTION fs.profile_quantile(fs.profile, q float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'profile_quantile' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_quantile(fs.profile, float8) IS
	'quantile q of the finite values: within 0.5% (relative) of the order statistic at rank floor(q * (n - 1))';
CREATE OR REPLACE FUNCTION fs.profile_histogram(fs.profile, bins int DEFAULT 10,
	OUT bin int, OUT lower float8, OUT upper float8, OUT count bigint) RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'profile_histogram' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION fs.profile_histogram(fs.profile, int) IS
	'equal-width histogram of the finite values between min and max, from the sketch';
CREATE OR REPLACE FUNCTION fs.profile_distinct(fs.profile) RETURNS float8
	AS 'MODULE_PATHNAME', 'profile_distinct' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_distinct(fs.profile) IS
	'distinct values of a text profile: exact up to 10000, estimated from the hash sample beyond';
CREATE OR REPLACE FUNCTION fs.profile_top_values(fs.profile, n int DEFAULT 10,
	OUT value text, OUT count bigint, OUT share float8) RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'profile_top_values' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 11;
COMMENT ON FUNCTION fs.profile_top_values(fs.profile, int) IS
	'the n most frequent listed values of a text profile, then one row with value NULL for all other values';

-- The drift metrics a monitor can alert on, and their default thresholds:
-- defined here once; fs.drift, fs.drift_report and the monitors use them.
CREATE OR REPLACE FUNCTION fs_internal.drift_metrics() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$ SELECT ARRAY['psi', 'ks_p_value', 'jensen_shannon', 'wasserstein_norm', 'l_infinity', 'chi_square_p_value'] $$;
COMMENT ON FUNCTION fs_internal.drift_metrics() IS 'internal: the drift metrics monitors can alert on';

CREATE OR REPLACE FUNCTION fs_internal.drift_threshold(metric text) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
AS $$
	SELECT CASE metric
		WHEN 'psi' THEN 0.1				-- PSI above 0.1: moderate shift (warn)
		WHEN 'psi_alert' THEN 0.25		-- PSI above 0.25: significant shift (alert)
		WHEN 'jensen_shannon' THEN 0.1
		WHEN 'wasserstein_norm' THEN 0.1
		WHEN 'l_infinity' THEN 0.1
		WHEN 'p_value' THEN 0.05		-- KS and chi-square p-values below this
	END::float8
$$;
COMMENT ON FUNCTION fs_internal.drift_threshold(text) IS 'internal: the default threshold of a drift metric';

CREATE OR REPLACE FUNCTION fs.drift(reference fs.profile, current fs.profile,
	psi_threshold float8 DEFAULT fs_internal.drift_threshold('psi'),
	js_threshold float8 DEFAULT fs_internal.drift_threshold('jensen_shannon'),
	wasserstein_threshold float8 DEFAULT fs_internal.drift_threshold('wasserstein_norm'),
	linf_threshold float8 DEFAULT fs_internal.drift_threshold('l_infinity'),
	p_value_threshold float8 DEFAULT fs_internal.drift_threshold('p_value'),
	OUT metric text, OUT value float8, OUT threshold float8, OUT drifted boolean)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'profile_drift' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 5;
COMMENT ON FUNCTION fs.drift(fs.profile, fs.profile, float8, float8, float8, float8, float8) IS
	'drift of current against reference: numeric psi, ks_statistic, ks_p_value, jensen_shannon, wasserstein_norm; text psi, jensen_shannon, l_infinity, chi_square_p_value';

CREATE OR REPLACE FUNCTION fs.profile_summary(p fs.profile) RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
RETURN CASE fs.profile_kind(p)
	WHEN 'numeric' THEN jsonb_build_object(
		'kind', 'numeric', 'count', fs.profile_count(p), 'nulls', fs.profile_nulls(p),
		'nan', fs.profile_nan_count(p), 'infinite', fs.profile_inf_count(p),
		'mean', fs.profile_mean(p), 'stddev', fs.profile_stddev(p),
		'min', fs.profile_min(p), 'max', fs.profile_max(p),
		'p10', fs.profile_quantile(p, 0.1), 'p50', fs.profile_quantile(p, 0.5),
		'p90', fs.profile_quantile(p, 0.9))
	ELSE jsonb_build_object(
		'kind', 'text', 'count', fs.profile_count(p), 'nulls', fs.profile_nulls(p),
		'distinct', fs.profile_distinct(p),
		'top', (SELECT jsonb_agg(jsonb_build_object('value', t.value, 'count', t.count) ORDER BY t.count DESC, t.value)
				  FROM fs.profile_top_values(p, 5) t WHERE t.value IS NOT NULL),
		'other', (SELECT t.count FROM fs.profile_top_values(p, 5) t WHERE t.value IS NULL))
END;
COMMENT ON FUNCTION fs.profile_summary(fs.profile) IS
	'a readable summary of a profile: counts, moments and deciles, or the top values and their share';

-- from src/sql/training_set.sql

------------------------------------------------------------------------------
-- Training sets: versioned, immutable, zstd-compressed point-in-time retrievals
------------------------------------------------------------------------------

-- fs.create_training_set runs the SQL of fs.historical_features (with every
-- reference pinned to the version it resolved to) as the caller, streaming,
-- and stores the rows as compressed column chunks (src/training_set_build.c)
-- in one transaction: a failure leaves nothing behind.  Each version is a
-- foreign table in fs_data (src/training_set_fdw.c) to SELECT or COPY from.
--
-- Catalog writes go through fs_internal.write and the operations below:
--   training_set_begin   a new version, 'building' in this transaction
--   training_set_chunks  one chunk group of a version being built
--   training_set_finish  columns, lineage, profiles, the foreign table; 'ready'
--   training_set_drop    a version, or the whole set

-- The C part: runs the retrieval and writes its chunk groups (as the caller,
-- through fs_internal.write, so it can only fill a version the caller is
-- building in this transaction).
CREATE OR REPLACE FUNCTION fs_internal.training_set_store(
	name text,
	version int,
	sql text,
	n_features int,
	key_column text,
	ts_column text,
	split_kind text,
	split_names text[],
	split_bounds float8[],
	split_starts text[],
	split_seed bigint,
	compression_level int,
	OUT column_names text[],
	OUT column_types regtype[],
	OUT column_typmods int[],
	OUT row_count bigint,
	OUT chunk_groups int,
	OUT split_rows bigint[],
	OUT checksum text,
	OUT spine_hash text,
	OUT profiles fs.profile[]
) AS 'MODULE_PATHNAME', 'training_set_store' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION fs_internal.training_set_store(text, int, text, int, text, text, text, text[], float8[],
	text[], bigint, int) IS
	'internal: runs a retrieval and stores its rows as the chunks of a training set version being built';

-- Inspection of single chunks (tests, diagnosis): how one is stored, and its
-- values decoded as a column of the given type would be (no checksum check).
CREATE OR REPLACE FUNCTION fs_internal.training_chunk_codec(data bytea) RETURNS text
	AS 'MODULE_PATHNAME', 'training_chunk_codec' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs_internal.training_chunk_codec(bytea) IS
	'internal: the encoding of a training set chunk, from its header';
CREATE OR REPLACE FUNCTION fs_internal.training_chunk_checksum(data bytea) RETURNS bigint
	AS 'MODULE_PATHNAME', 'training_chunk_checksum' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs_internal.training_chunk_checksum(bytea) IS
	'internal: the CRC-32C of a training set chunk, as stored beside it';
CREATE OR REPLACE FUNCTION fs_internal.training_chunk_values(data bytea, type regtype, typmod int DEFAULT -1)
	RETURNS text[]
	AS 'MODULE_PATHNAME', 'training_chunk_values' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs_internal.training_chunk_values(bytea, regtype, int) IS
	'internal: the values of a training set chunk, as text';

-- Reads a split definition: {"train": 0.8, "validation": 0.1, "test": 0.1}
-- (fractions of the entities, by a hash of the key; optional "seed") or
-- {"by": "time", "train": "-infinity", "validation": "2024-03-01", ...} (each
-- split from its start, a value of the spine's time type, read by the
-- builder).  Hash splits are ordered by name, time splits by start.
CREATE OR REPLACE FUNCTION fs_internal.training_set_split(split jsonb,
	OUT kind text, OUT names text[], OUT bounds float8[], OUT starts text[], OUT seed bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
	e record;
	total float8 := 0;
	acc float8 := 0;
	hint CONSTANT text := 'Write {"train": 0.8, "validation": 0.1, "test": 0.1}, or {"by": "time", '
						  '"train": "-infinity", "validation": "2024-03-01", "test": "2024-04-01"}.';
BEGIN
	IF split IS NULL THEN
		RETURN;
	END IF;
	IF jsonb_typeof(split) <> 'object' THEN
		RAISE EXCEPTION 'split must be a JSON object' USING ERRCODE = 'invalid_parameter_value', HINT = hint;
	END IF;
	kind := coalesce(split ->> 'by', 'hash');
	IF kind NOT IN ('hash', 'time') THEN
		RAISE EXCEPTION 'split "by" must be "hash" or "time", not "%"', kind
			USING ERRCODE = 'invalid_parameter_value', HINT = hint;
	END IF;
	IF split ? 'seed' THEN
		IF kind <> 'hash' OR jsonb_typeof(split -> 'seed') <> 'number' OR (split ->> 'seed') !~ '^-?[0-9]{1,18}$' THEN
			RAISE EXCEPTION 'split "seed" must be an integer, for a hash split' USING ERRCODE = 'invalid_parameter_value';
		END IF;
		seed := (split ->> 'seed')::bigint;
	END IF;
	FOR e IN SELECT key, value FROM jsonb_each(split - 'by' - 'seed') ORDER BY key COLLATE "C" LOOP
		PERFORM fs_internal.check_name('split', e.key);
		IF kind = 'hash' THEN
			IF jsonb_typeof(e.value) <> 'number' OR NOT (e.value > '0'::jsonb) THEN
				RAISE EXCEPTION 'split "%" must be a positive fraction, not %', e.key, e.value
					USING ERRCODE = 'invalid_parameter_value', HINT = hint;
			END IF;
			names := names || e.key;
			bounds := bounds || (e.value::text)::float8;
			total := total + (e.value::text)::float8;
		ELSE
			IF jsonb_typeof(e.value) <> 'string' THEN
				RAISE EXCEPTION 'split "%" must start at a time, given as a string, not %', e.key, e.value
					USING ERRCODE = 'invalid_parameter_value', HINT = hint;
			END IF;
			PERFORM (e.value #>> '{}')::timestamp;	-- a time, or an error naming the string
			names := names || e.key;
			starts := starts || (e.value #>> '{}');
		END IF;
	END LOOP;
	IF coalesce(cardinality(names), 0) < 2 THEN
		RAISE EXCEPTION 'split must name at least two splits' USING ERRCODE = 'invalid_parameter_value', HINT = hint;
	END IF;
	IF cardinality(names) > 16 THEN
		RAISE EXCEPTION 'split names % splits; the limit is 16', cardinality(names)
			USING ERRCODE = 'program_limit_exceeded';
	END IF;
	IF kind = 'hash' THEN
		IF abs(total - 1) > 1e-9 THEN
			RAISE EXCEPTION 'split fractions add up to %, not 1', total
				USING ERRCODE = 'invalid_parameter_value', HINT = hint;
		END IF;
		-- cumulative upper bounds in [0, 1)
		FOR i IN 1 .. cardinality(bounds) LOOP
			acc := acc + bounds[i];
			bounds[i] := acc;
		END LOOP;
	ELSE
		-- (the order of the starts is the same read as any time type)
		SELECT array_agg(n ORDER BY s::timestamp), array_agg(s ORDER BY s::timestamp) INTO names, starts
		  FROM unnest(names, starts) AS u(n, s);
		IF (SELECT count(DISTINCT s::timestamp) FROM unnest(starts) s) < cardinality(starts) THEN
			RAISE EXCEPTION 'two splits start at the same time' USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END IF;
END;
$$;
COMMENT ON FUNCTION fs_internal.training_set_split(jsonb) IS
	'internal: validates a training set split definition and returns it in the form the builder takes';

------------------------------------------------------------------------------
-- Catalog operations
------------------------------------------------------------------------------

-- The version a caller is building in this transaction, or an error.
CREATE OR REPLACE FUNCTION fs_internal.building_training_set(caller regrole, name text, version int)
RETURNS fs.training_set_versions
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	tv fs.training_set_versions;
BEGIN
	SELECT * INTO tv FROM fs.training_set_versions x
	 WHERE x.name = building_training_set.name AND x.version = building_training_set.version;
	IF NOT FOUND OR tv.status <> 'building' OR tv.building_xid IS DISTINCT FROM pg_current_xact_id()
	   OR tv.created_by <> fs_internal.role_name(caller) THEN
		RAISE EXCEPTION 'training set "%" version % is not being built by this transaction', name, version
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Training sets are written only by fs.create_training_set().';
	END IF;
	RETURN tv;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.building_training_set(regrole, text, int) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.building_training_set(regrole, text, int) IS
	'internal: the training set version the caller is building in this transaction';

CREATE OR REPLACE FUNCTION fs_internal.w_training_set_begin(caller regrole, name text, spine text, search_path text,
	key_column text, ts_column text, strict boolean, known_at boolean, time_zone text, split jsonb, description text,
	retrieval_sql text, compression_level int)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	s fs.training_set_names;
	n int;
BEGIN
	PERFORM fs_internal.check_name('training set', name);
	-- Concurrent creations of one set take turns for their version numbers.
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext('training_set:' || name));
	SELECT * INTO s FROM fs.training_set_names x WHERE x.name = w_training_set_begin.name;
	IF FOUND THEN
		IF NOT pg_has_role(caller, s.owner_role, 'USAGE') THEN
			RAISE EXCEPTION 'must be owner of training set "%"', name USING ERRCODE = 'insufficient_privilege';
		END IF;
	ELSE
		INSERT INTO fs.training_set_names (name, owner_role) VALUES (name, fs_internal.role_name(caller))
		RETURNING * INTO s;
	END IF;
	n := s.last_version + 1;
	UPDATE fs.training_set_names x SET last_version = n WHERE x.name = s.name;
	INSERT INTO fs.training_set_versions (name, version, status, building_xid, relation_name, spine, search_path,
										  key_column, ts_column, strict, known_at, time_zone, split, description,
										  retrieval_sql, compression_level, created_by)
	VALUES (name, n, 'building', pg_current_xact_id(), fs_internal.storage_name(name, n, '_training'), spine,
			search_path, key_column, ts_column, strict, known_at, time_zone, split, description, retrieval_sql,
			compression_level, fs_internal.role_name(caller));
	RETURN n;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_training_set_begin(regrole, text, text, text, text, text, boolean, boolean, text,
	jsonb, text, text, int) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_training_set_begin(regrole, text, text, text, text, text, boolean, boolean, text,
	jsonb, text, text, int) IS
	'internal catalog operation: starts a new version of a training set, built in this transaction';

CREATE OR REPLACE FUNCTION fs_internal.w_training_set_chunks(caller regrole, name text, version int, chunk_no int,
	split text, nrows int, checksums bigint[], data bytea[])
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
BEGIN
	PERFORM fs_internal.building_training_set(caller, name, version);
	IF chunk_no IS NULL OR chunk_no < 0 OR nrows IS NULL OR nrows < 1 OR cardinality(data) IS NULL
	   OR cardinality(data) <> cardinality(checksums) OR array_position(data, NULL) IS NOT NULL THEN
		RAISE EXCEPTION 'invalid chunk group % for training set "%" version %', chunk_no, name, version
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO fs_internal.training_chunks (set_name, version, chunk_no, column_no, split, nrows, checksum, data)
	SELECT name, version, chunk_no, u.c, split, nrows, u.crc, u.d
	  FROM unnest(checksums, data) WITH ORDINALITY AS u(crc, d, c);
	RETURN cardinality(data);
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_training_set_chunks(regrole, text, int, int, text, int, bigint[], bytea[])
	FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_training_set_chunks(regrole, text, int, int, text, int, bigint[], bytea[]) IS
	'internal catalog operation: writes one chunk group of a training set version being built';

CREATE OR REPLACE FUNCTION fs_internal.w_training_set_finish(caller regrole, name text, version int,
	column_names text[], column_types regtype[], column_typmods int[], features jsonb, row_count bigint,
	chunk_groups int, split_rows jsonb, checksum text, spine_hash text, profiles fs.profile[])
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	tv fs.training_set_versions := fs_internal.building_training_set(caller, name, version);
	owner name := (SELECT x.owner_role FROM fs.training_set_names x WHERE x.name = w_training_set_finish.name);
	ncols int := cardinality(column_names);
	nfeatures int := jsonb_array_length(features);
	got record;
	cols text;
	rel text := format('fs_data.%I', tv.relation_name);
BEGIN
	-- What was written must be what the builder counted.
	SELECT count(DISTINCT c.chunk_no) AS groups, coalesce(sum(c.nrows) FILTER (WHERE c.column_no = 1), 0) AS rows,
		   count(*) AS chunks, coalesce(sum(pg_column_size(c.data)), 0) AS bytes
	  INTO got
	  FROM fs_internal.training_chunks c WHERE c.set_name = tv.name AND c.version = tv.version;
	IF got.groups <> chunk_groups OR got.rows <> row_count OR got.chunks <> chunk_groups::bigint * ncols
	   OR ncols IS NULL OR ncols <> cardinality(column_types) OR ncols <> cardinality(column_typmods)
	   OR ncols <> cardinality(profiles) OR nfeatures >= ncols THEN
		RAISE EXCEPTION 'training set "%" version % does not match what was written', name, version
			USING ERRCODE = 'data_corrupted',
				  DETAIL = format('%s chunk groups with %s rows were written; %s with %s were reported.',
								  got.groups, got.rows, chunk_groups, row_count);
	END IF;

	INSERT INTO fs.training_set_columns (name, version, position, column_name, type, typmod, kind, ref, view_name,
										 view_version, feature)
	SELECT tv.name, tv.version, u.o, u.n, u.t, u.m,
		   CASE WHEN u.o <= ncols - nfeatures THEN 'spine' ELSE 'feature' END,
		   f ->> 'ref', f ->> 'view', (f ->> 'version')::int, f ->> 'feature'
	  FROM unnest(column_names, column_types, column_typmods) WITH ORDINALITY AS u(n, t, m, o)
	  LEFT JOIN LATERAL (SELECT features -> (u.o::int - (ncols - nfeatures) - 1) AS f) x ON u.o > ncols - nfeatures;
	IF tv.split IS NOT NULL THEN
		INSERT INTO fs.training_set_columns (name, version, position, column_name, type, typmod, kind)
		VALUES (tv.name, tv.version, ncols + 1, 'split', 'text', -1, 'split');
	END IF;
	INSERT INTO fs.training_set_profiles (name, version, column_name, profile)
	SELECT tv.name, tv.version, u.n, u.p FROM unnest(column_names, profiles) AS u(n, p) WHERE u.p IS NOT NULL;

	-- The relation: a foreign table of the extension's owner; the set's owner
	-- reads it and grants reading it.
	SELECT string_agg(format('%I %s', c.column_name, format_type(c.type, c.typmod)), ', ' ORDER BY c.position)
	  INTO cols
	  FROM fs.training_set_columns c WHERE c.name = tv.name AND c.version = tv.version;
	EXECUTE format('CREATE FOREIGN TABLE %s (%s) SERVER fs_training_sets OPTIONS '
				   '(training_set %L, version %L, row_count %L, chunk_groups %L, has_split %L)',
				   rel, cols, tv.name, tv.version, row_count, chunk_groups,
				   CASE WHEN tv.split IS NOT NULL THEN 'true' ELSE 'false' END);
	EXECUTE format('COMMENT ON FOREIGN TABLE %s IS %L', rel,
				   format('feature_store: training set %s version %s', tv.name, tv.version));
	EXECUTE format('GRANT SELECT ON %s TO %I WITH GRANT OPTION', rel, owner);

	UPDATE fs.training_set_versions x
	   SET status = 'ready', building_xid = NULL, relid = rel::regclass,
		   row_count = w_training_set_finish.row_count, chunk_groups = w_training_set_finish.chunk_groups,
		   stored_bytes = got.bytes, split_rows = w_training_set_finish.split_rows,
		   checksum = w_training_set_finish.checksum, spine_hash = w_training_set_finish.spine_hash
	 WHERE x.name = tv.name AND x.version = tv.version;
	RETURN tv.version;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_training_set_finish(regrole, text, int, text[], regtype[], int[], jsonb, bigint,
	int, jsonb, text, text, fs.profile[]) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_training_set_finish(regrole, text, int, text[], regtype[], int[], jsonb, bigint,
	int, jsonb, text, text, fs.profile[]) IS
	'internal catalog operation: records the columns, lineage and profiles of a version being built and creates its relation';

-- Drops one version: its relation (dependent views with cascade) and, through
-- the foreign keys, its columns, profiles and chunks.  Only the relation
-- recorded at creation, and only while it is still the extension's.
CREATE OR REPLACE FUNCTION fs_internal.drop_training_set_version(name text, version int, cascade boolean)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	tv fs.training_set_versions;
BEGIN
	SELECT * INTO tv FROM fs.training_set_versions x
	 WHERE x.name = drop_training_set_version.name AND x.version = drop_training_set_version.version;
	IF EXISTS (SELECT FROM pg_class c
				WHERE c.oid = tv.relid AND c.relkind = 'f' AND c.relnamespace = 'fs_data'::regnamespace
				  AND c.relowner = (SELECT n.nspowner FROM pg_namespace n WHERE n.nspname = 'fs_internal')) THEN
		BEGIN
			EXECUTE format('DROP FOREIGN TABLE %s %s', tv.relid, CASE WHEN cascade THEN 'CASCADE' ELSE 'RESTRICT' END);
		EXCEPTION WHEN dependent_objects_still_exist THEN
			RAISE EXCEPTION 'cannot drop version % of training set "%" because other objects depend on it',
				tv.version, tv.name
				USING ERRCODE = 'dependent_objects_still_exist',
					  HINT = 'Drop the dependent objects first, or pass cascade => true.';
		END;
	END IF;
	DELETE FROM fs.training_set_versions x WHERE x.name = tv.name AND x.version = tv.version;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.drop_training_set_version(text, int, boolean) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.drop_training_set_version(text, int, boolean) IS
	'internal: drops a training set version, its relation and its chunks (called by catalog operations)';

CREATE OR REPLACE FUNCTION fs_internal.w_training_set_drop(caller regrole, name text, version int, cascade boolean)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	s fs.training_set_names;
	v int;
BEGIN
	SELECT * INTO s FROM fs.training_set_names x WHERE x.name = w_training_set_drop.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'training set "%" does not exist', name USING ERRCODE = 'undefined_object';
	END IF;
	IF NOT pg_has_role(caller, s.owner_role, 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of training set "%"', name USING ERRCODE = 'insufficient_privilege';
	END IF;
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext('training_set:' || name));
	IF version IS NOT NULL AND NOT EXISTS (SELECT FROM fs.training_set_versions x
											WHERE x.name = s.name AND x.version = w_training_set_drop.version) THEN
		RAISE EXCEPTION 'training set "%" has no version %', name, version
			USING ERRCODE = 'undefined_object',
				  HINT = (SELECT format('Its versions are %s.', string_agg(x.version::text, ', ' ORDER BY x.version))
							FROM fs.training_set_versions x WHERE x.name = s.name);
	END IF;
	FOR v IN SELECT x.version FROM fs.training_set_versions x
			  WHERE x.name = s.name AND (x.version = w_training_set_drop.version OR w_training_set_drop.version IS NULL)
			  ORDER BY x.version
	LOOP
		PERFORM fs_internal.drop_training_set_version(s.name, v, cascade);
	END LOOP;
	-- The name goes with its last version only when the whole set is dropped:
	-- version numbers are never reused.
	IF version IS NULL THEN
		DELETE FROM fs.training_set_names x WHERE x.name = s.name;
	END IF;
	RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_training_set_drop(regrole, text, int, boolean) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_training_set_drop(regrole, text, int, boolean) IS
	'internal catalog operation: drops a training set version, or the whole set';

------------------------------------------------------------------------------
-- Dependencies on feature view versions
------------------------------------------------------------------------------

-- The training set versions built from a feature view version.  It waits
-- for creations that use the version to finish (they hold a shared lock on
-- it until they commit), so none slips past a check made with it.
CREATE OR REPLACE FUNCTION fs_internal.training_set_users(view text, version int)
RETURNS TABLE (set_name text, set_version int)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext(format('uses:%s@%s', view, version)));
	RETURN QUERY
		SELECT DISTINCT c.name, c.version FROM fs.training_set_columns c
		 WHERE c.view_name = training_set_users.view AND c.view_version = training_set_users.version
		 ORDER BY 1, 2;
END;
$$;
COMMENT ON FUNCTION fs_internal.training_set_users(text, int) IS
	'internal: the training set versions built from a feature view version, once creations using it are done';

-- The same as 'name@version, ...', or NULL: fs_internal.w_drop_feature_view
-- calls it (after taking the view's lock) and refuses the drop unless
-- cascading.
CREATE OR REPLACE FUNCTION fs_internal.training_set_dependents(view text, version int) RETURNS text
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
	SELECT string_agg(format('%s@%s', u.set_name, u.set_version), ', ' ORDER BY u.set_name, u.set_version)
	  FROM fs_internal.training_set_users(view, version) u
$$;
COMMENT ON FUNCTION fs_internal.training_set_dependents(text, int) IS
	'internal: the training set versions built from a feature view version (name@version, ...), or NULL';

-- With cascade => true, fs_internal.w_drop_feature_view drops them (as DROP
-- ... CASCADE drops other roles' dependent views).
CREATE OR REPLACE FUNCTION fs_internal.drop_training_set_dependents(view text, version int) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	d record;
BEGIN
	FOR d IN SELECT * FROM fs_internal.training_set_users(view, version) LOOP
		PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext('training_set:' || d.set_name));
		PERFORM fs_internal.drop_training_set_version(d.set_name, d.set_version, true);
	END LOOP;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.drop_training_set_dependents(text, int) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.drop_training_set_dependents(text, int) IS
	'internal: drops the training set versions built from a feature view version (for a cascading drop)';

------------------------------------------------------------------------------
-- Creating, dropping, reading
------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION fs_internal.create_training_set(
	name text,
	spine text,
	features fs.feature_ref[],
	key_column text,
	ts_column text,
	strict boolean,
	known_at boolean,
	time_zone text,
	split jsonb,
	description text,
	compression_level int,
	search_path text
) RETURNS int
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	sp record;
	r record;
	pinned fs.feature_ref[] := '{}';
	lineage jsonb := '[]';
	-- zstd level 3 (zstd's own default): on the benchmark data it builds as
	-- fast as level 1 and stores 2% less; level 9 stores 3% less again for
	-- 5-10% more time (README "Training sets").  Reading costs the same at
	-- every level.
	level int := coalesce(compression_level, 3);
	sql text;
	v int;
	token bigint;
	res record;
BEGIN
	PERFORM fs_internal.check_name('training set', name);
	IF spine IS NULL OR key_column IS NULL OR ts_column IS NULL OR strict IS NULL OR known_at IS NULL THEN
		RAISE EXCEPTION 'training set "%": spine, key_column, ts_column, strict and known_at must not be null', name
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF level < 1 OR level > 22 THEN
		RAISE EXCEPTION 'compression_level must be between 1 and 22 (zstd levels), not %', level
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF EXISTS (SELECT FROM fs.training_set_names x
				WHERE x.name = create_training_set.name AND NOT pg_has_role(x.owner_role, 'USAGE')) THEN
		RAISE EXCEPTION 'must be owner of training set "%"', name USING ERRCODE = 'insufficient_privilege';
	END IF;
	sp := fs_internal.training_set_split(split);

	-- Pin every reference to the version it resolves to now, and keep feature
	-- view versions in use from being dropped until this transaction ends.
	FOR r IN SELECT * FROM fs.resolve_features(features) LOOP
		PERFORM pg_advisory_xact_lock_shared(hashtext('feature_store'), hashtext(format('uses:%s@%s', r.view, r.version)));
		pinned := pinned || fs.feature_ref(r.view, r.feature, r.version);
		lineage := lineage || jsonb_build_object('ref', r.ref, 'view', r.view, 'version', r.version, 'feature', r.feature);
	END LOOP;
	-- Generated after the locks: a version dropped meanwhile is an error now.
	sql := fs_internal.historical_features(spine, pinned, key_column, ts_column, strict, known_at, time_zone,
										   search_path);

	v := fs_internal.write('training_set_begin', name, spine, search_path, key_column, ts_column, strict, known_at,
						   time_zone, split, description, sql, level);
	-- The spine is the caller's SQL: it runs as the caller, in the caller's schemas.
	token := fs_internal.begin_user_sql(NULL, search_path);
	res := fs_internal.training_set_store(name, v, sql, cardinality(pinned), key_column, ts_column, sp.kind, sp.names,
										  sp.bounds, sp.starts, sp.seed, level);
	PERFORM fs_internal.end_user_sql(token);
	PERFORM fs_internal.write('training_set_finish', name, v, res.column_names, res.column_types, res.column_typmods,
							  lineage, res.row_count, res.chunk_groups,
							  (SELECT jsonb_object_agg(n, c ORDER BY o)
								 FROM unnest(sp.names, res.split_rows) WITH ORDINALITY AS u(n, c, o)),
							  res.checksum, res.spine_hash, res.profiles);
	RETURN v;
END;
$$;
COMMENT ON FUNCTION fs_internal.create_training_set(text, text, fs.feature_ref[], text, text, boolean, boolean, text,
	jsonb, text, int, text) IS
	'internal: fs.create_training_set with the schemas the spine resolves in';

-- The public entry point captures the caller's schemas, in which the spine
-- resolves (as fs.historical_features does).
CREATE OR REPLACE FUNCTION fs.create_training_set(
	name text,
	spine text,
	features fs.feature_ref[],
	key_column text,
	ts_column text,
	strict boolean DEFAULT true,
	known_at boolean DEFAULT false,
	time_zone text DEFAULT NULL,
	split jsonb DEFAULT NULL,
	description text DEFAULT NULL,
	compression_level int DEFAULT NULL
) RETURNS int
LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $$
	SELECT fs_internal.create_training_set($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
		(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(s), ', ' ORDER BY o)
		   FROM pg_catalog.unnest(pg_catalog.current_schemas(false)) WITH ORDINALITY AS u(s, o)))
$$;
COMMENT ON FUNCTION fs.create_training_set(text, text, fs.feature_ref[], text, text, boolean, boolean, text, jsonb, text,
	int) IS
	'runs a point-in-time retrieval (as fs.historical_features) into a new immutable, compressed training set version; '
	'returns the version';

CREATE OR REPLACE FUNCTION fs.drop_training_set(name text, version int DEFAULT NULL, cascade boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
BEGIN
	PERFORM fs_internal.write('training_set_drop', name, version, coalesce(cascade, false));
END;
$$;
COMMENT ON FUNCTION fs.drop_training_set(text, int, boolean) IS
	'drops one version of a training set, or the whole set when version is NULL, with its data';

-- Whether the current role may read a training set version (and so its profiles).
CREATE OR REPLACE FUNCTION fs_internal.can_read_training_set(name text, version int) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
	SELECT coalesce((SELECT pg_catalog.has_table_privilege(tv.relid, 'SELECT')
					   FROM fs.training_set_versions tv
					  WHERE tv.name = can_read_training_set.name AND tv.version = can_read_training_set.version
						AND EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid = tv.relid)), false)
$$;
COMMENT ON FUNCTION fs_internal.can_read_training_set(text, int) IS
	'internal: whether the current role may read a training set version';

DROP POLICY IF EXISTS set_readers ON fs.training_set_profiles;
CREATE POLICY set_readers ON fs.training_set_profiles FOR SELECT
	USING (fs_internal.can_read_training_set(name, version));

CREATE OR REPLACE VIEW fs.training_sets AS
SELECT tv.name, tv.version, tv.relid AS relation, tv.row_count, tv.stored_bytes, tv.checksum, tv.spine_hash,
	   (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('column', c.column_name, 'ref', c.ref,
								   'view', c.view_name, 'version', c.view_version, 'feature', c.feature)
								   ORDER BY c.position)
		  FROM fs.training_set_columns c
		 WHERE c.name = tv.name AND c.version = tv.version AND c.kind = 'feature') AS features,
	   tv.spine, tv.key_column, tv.ts_column,
	   pg_catalog.jsonb_build_object('strict', tv.strict, 'known_at', tv.known_at, 'time_zone', tv.time_zone,
									 'split', tv.split) AS options,
	   tv.split_rows, tv.chunk_groups, tv.compression_level, tv.description,
	   tv.version = (SELECT pg_catalog.max(x.version) FROM fs.training_set_versions x
					  WHERE x.name = tv.name AND x.status = 'ready') AS is_latest,
	   tv.created_at, tv.created_by, n.owner_role, tv.search_path, tv.retrieval_sql
  FROM fs.training_set_versions tv
  JOIN fs.training_set_names n ON n.name = tv.name
 WHERE tv.status = 'ready';
COMMENT ON VIEW fs.training_sets IS
	'one row per training set version: its relation, lineage (spine, pinned feature versions, options), '
	'row count, stored size and checksums';
GRANT SELECT ON fs.training_sets TO PUBLIC;

-- A stored profile of a feature column of a training set version (the
-- latest when version is NULL), to use as the reference of fs.drift():
-- feature is the column name (view__feature) or the reference (view:feature).
CREATE OR REPLACE FUNCTION fs.training_set_profile(name text, version int, feature text) RETURNS fs.profile
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
	v int := version;
	col fs.training_set_columns;
	p fs.profile;
BEGIN
	IF v IS NULL THEN
		SELECT max(x.version) INTO v FROM fs.training_set_versions x
		 WHERE x.name = training_set_profile.name AND x.status = 'ready';
	END IF;
	IF NOT EXISTS (SELECT FROM fs.training_set_versions x
					WHERE x.name = training_set_profile.name AND x.version = v AND x.status = 'ready') THEN
		IF NOT EXISTS (SELECT FROM fs.training_set_names x WHERE x.name = training_set_profile.name) THEN
			RAISE EXCEPTION 'training set "%" does not exist', name USING ERRCODE = 'undefined_object';
		END IF;
		RAISE EXCEPTION 'training set "%" has no version %', name, coalesce(v::text, '(none)')
			USING ERRCODE = 'undefined_object';
	END IF;
	SELECT * INTO col FROM fs.training_set_columns c
	 WHERE c.name = training_set_profile.name AND c.version = v
	   AND (c.column_name = training_set_profile.feature OR c.ref = training_set_profile.feature
			OR format('%s:%s', c.view_name, c.feature) = training_set_profile.feature)
	 ORDER BY c.column_name = training_set_profile.feature DESC, c.position
	 LIMIT 1;
	IF NOT FOUND OR col.kind <> 'feature' THEN
		RAISE EXCEPTION 'training set "%" version % has no feature column "%"', name, v, feature
			USING ERRCODE = 'undefined_column',
				  HINT = (SELECT format('Its feature columns are %s.', string_agg(c.column_name, ', ' ORDER BY c.position))
							FROM fs.training_set_columns c
						   WHERE c.name = training_set_profile.name AND c.version = v AND c.kind = 'feature');
	END IF;
	IF NOT fs_internal.can_read_training_set(name, v) THEN
		RAISE EXCEPTION 'permission denied for training set "%" version %', name, v
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Profiles summarize the set: reading them needs SELECT on its relation.';
	END IF;
	SELECT x.profile INTO p FROM fs.training_set_profiles x
	 WHERE x.name = training_set_profile.name AND x.version = v AND x.column_name = col.column_name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'column "%" of training set "%" version % has no profile', col.column_name, name, v
			USING ERRCODE = 'undefined_object', HINT = 'Only numeric and text features are profiled.';
	END IF;
	RETURN p;
END;
$$;
COMMENT ON FUNCTION fs.training_set_profile(text, int, text) IS
	'the profile of a feature column stored with a training set version (latest when version is NULL), '
	'a reference for fs.drift()';

-- from src/sql/drift_monitor.sql

-- ===================================================================
-- Drift reports and monitors over feature views
-- ===================================================================

-- The profile expression for one feature column: numbers as float8 (numeric
-- keeps its own aggregate), everything else as text categories.
CREATE OR REPLACE FUNCTION fs_internal.profile_expr(feature text, type regtype) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
RETURN CASE
	WHEN type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype,
				  'real'::regtype, 'double precision'::regtype)
		THEN format('%I::float8', feature)
	WHEN type = 'numeric'::regtype THEN format('%I', feature)
	ELSE format('%I::text', feature)
END;
COMMENT ON FUNCTION fs_internal.profile_expr(text, regtype) IS
	'internal: the fs.profile argument for a feature column of the given type';

-- The event time of a history row as timestamptz, for window filters.
CREATE OR REPLACE FUNCTION fs_internal.ts_expr(vv fs.view_versions) RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
AS $$
BEGIN
	IF vv.ts_type <> ALL (fs_internal.time_types()) THEN
		RAISE EXCEPTION 'feature view "%" version % has a % timestamp column, not a time',
			vv.view_name, vv.version, vv.ts_type
			USING ERRCODE = 'wrong_object_type',
				  HINT = 'Drift reports and monitors window history by timestamptz ranges.';
	END IF;
	RETURN format('%I::timestamptz', vv.ts_column);
END;
$$;
COMMENT ON FUNCTION fs_internal.ts_expr(fs.view_versions) IS
	'internal: the history table''s event time as timestamptz, or an error for non-time timestamps';

CREATE OR REPLACE FUNCTION fs.drift_report(view text, reference tstzrange, current tstzrange,
	version int DEFAULT NULL,
	psi_threshold float8 DEFAULT fs_internal.drift_threshold('psi'),
	js_threshold float8 DEFAULT fs_internal.drift_threshold('jensen_shannon'),
	wasserstein_threshold float8 DEFAULT fs_internal.drift_threshold('wasserstein_norm'),
	linf_threshold float8 DEFAULT fs_internal.drift_threshold('l_infinity'),
	p_value_threshold float8 DEFAULT fs_internal.drift_threshold('p_value'))
RETURNS TABLE (feature text, kind text, metric text, value float8, threshold float8, drifted boolean,
			   reference_rows bigint, current_rows bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
	vv fs.view_versions;
	ts text;
	refs text := '';
	curs text := '';
	names text[] := '{}';
	f record;
	n int := 0;
	ref_rows bigint;
	cur_rows bigint;
	ref_profiles fs.profile[];
	cur_profiles fs.profile[];
	span record;
BEGIN
	IF reference IS NULL OR current IS NULL THEN
		RAISE EXCEPTION 'drift_report needs a reference and a current window'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	vv := fs_internal.view_version(view, version);
	ts := fs_internal.ts_expr(vv);
	FOR f IN SELECT vf.name, vf.type FROM fs.view_features vf
			  WHERE vf.view_name = vv.view_name AND vf.version = vv.version ORDER BY vf.position LOOP
		n := n + 1;
		names := names || f.name::text;
		refs := refs || format(', fs.profile(%s) FILTER (WHERE %s <@ $1)', fs_internal.profile_expr(f.name, f.type), ts);
		curs := curs || format(', fs.profile(%s) FILTER (WHERE %s <@ $2)', fs_internal.profile_expr(f.name, f.type), ts);
	END LOOP;
	IF n = 0 THEN
		RETURN;
	END IF;
	-- one scan: the rows in each window and the profiles of every feature in both
	EXECUTE format(
		'SELECT count(*) FILTER (WHERE %1$s <@ $1), count(*) FILTER (WHERE %1$s <@ $2), ARRAY[%2$s], ARRAY[%3$s] '
		'  FROM %4$s WHERE %1$s <@ $1 OR %1$s <@ $2',
		ts, substr(refs, 3), substr(curs, 3), fs_internal.history_rows(vv))
		INTO ref_rows, cur_rows, ref_profiles, cur_profiles
		USING reference, current;
	-- an empty window: nothing to compare, and a notice rather than rows of NULLs
	IF ref_rows = 0 OR cur_rows = 0 THEN
		EXECUTE format('SELECT count(*) AS n, min(%1$s) AS first, max(%1$s) AS last FROM %2$s',
					   ts, fs_internal.history_rows(vv)) INTO span;
		RAISE NOTICE 'drift_report: % % no rows of feature view "%" version %, so there is nothing to compare',
			concat_ws(' and ',
					  CASE WHEN ref_rows = 0 THEN 'the reference window '
						   || CASE WHEN isempty(reference) THEN '(an empty range)' ELSE reference::text END END,
					  CASE WHEN cur_rows = 0 THEN 'the current window '
						   || CASE WHEN isempty(current) THEN '(an empty range)' ELSE current::text END END),
			CASE WHEN ref_rows = 0 AND cur_rows = 0 THEN 'hold' ELSE 'holds' END,
			vv.view_name, vv.version
			USING DETAIL = CASE WHEN span.n = 0 THEN 'Its history is empty.'
								ELSE format('Its history holds %s rows, with event times from %s to %s.',
											span.n, span.first, span.last) END,
				  HINT = CASE WHEN span.n = 0 THEN format('fs.materialize(%L) fills the history.', vv.view_name)
							  ELSE format('Windows select history rows by their event time, column "%s".', vv.ts_column) END;
		RETURN;
	END IF;
	RETURN QUERY
	SELECT p.feature, fs.profile_kind(p.r), d.metric, d.value, d.threshold, d.drifted,
		   fs.profile_count(p.r) + fs.profile_nulls(p.r), fs.profile_count(p.c) + fs.profile_nulls(p.c)
	  FROM unnest(names, ref_profiles, cur_profiles) WITH ORDINALITY AS p(feature, r, c, pos),
		   LATERAL fs.drift(p.r, p.c, psi_threshold, js_threshold, wasserstein_threshold,
							linf_threshold, p_value_threshold) WITH ORDINALITY AS d
	 ORDER BY p.pos, d.ordinality;
END;
$$;
COMMENT ON FUNCTION fs.drift_report(text, tstzrange, tstzrange, int, float8, float8, float8, float8, float8) IS
	'drift of every feature of a feature view version (latest by default) between two windows of its history';

CREATE OR REPLACE FUNCTION fs.create_drift_monitor(name text, view text, reference tstzrange,
	features text[] DEFAULT NULL,
	channel text DEFAULT 'fs_drift',
	version int DEFAULT NULL,
	metrics text[] DEFAULT '{psi,jensen_shannon,wasserstein_norm,l_infinity}',
	psi_warn float8 DEFAULT fs_internal.drift_threshold('psi'),
	psi_alert float8 DEFAULT fs_internal.drift_threshold('psi_alert'),
	js_threshold float8 DEFAULT fs_internal.drift_threshold('jensen_shannon'),
	wasserstein_threshold float8 DEFAULT fs_internal.drift_threshold('wasserstein_norm'),
	linf_threshold float8 DEFAULT fs_internal.drift_threshold('l_infinity'),
	p_value_threshold float8 DEFAULT fs_internal.drift_threshold('p_value'))
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	vv fs.view_versions;
	bad text;
BEGIN
	PERFORM fs_internal.check_name('drift monitor', name);
	vv := fs_internal.view_version(view, version);
	PERFORM fs_internal.ts_expr(vv);
	IF reference IS NULL OR isempty(reference) OR lower_inf(reference) OR upper_inf(reference) THEN
		RAISE EXCEPTION 'drift monitor "%" needs a bounded, non-empty reference window', name
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF channel IS NULL OR channel = '' THEN
		RAISE EXCEPTION 'drift monitor "%" needs a NOTIFY channel', name
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF octet_length(channel) > fs_internal.max_name_bytes() THEN
		RAISE EXCEPTION 'NOTIFY channel of drift monitor "%" is too long', name
			USING ERRCODE = 'name_too_long',
				  DETAIL = format('It is %s bytes long; the limit is %s.', octet_length(channel), fs_internal.max_name_bytes());
	END IF;
	-- Profiles summarize the history: monitoring it needs the right to read it.
	IF NOT has_table_privilege(fs_internal.storage_rel(vv, false), 'SELECT') THEN
		RAISE EXCEPTION 'permission denied to monitor feature view "%"', vv.view_name
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = format('A drift monitor needs SELECT on the history table %s.', fs_internal.storage_rel(vv, false));
	END IF;
	SELECT f INTO bad FROM unnest(features) f
	 WHERE NOT EXISTS (SELECT FROM fs.view_features vf
					   WHERE vf.view_name = vv.view_name AND vf.version = vv.version AND vf.name = f)
	 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'feature view "%" version % has no feature "%"', vv.view_name, vv.version, bad
			USING ERRCODE = 'undefined_column';
	END IF;
	SELECT m INTO bad FROM unnest(metrics) m WHERE m IS NULL OR m <> ALL (fs_internal.drift_metrics()) LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'unknown drift metric "%"', bad
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = (SELECT format('Metrics are %s and %s.', array_to_string(m[1:cardinality(m) - 1], ', '), m[cardinality(m)])
							FROM fs_internal.drift_metrics() m);
	END IF;
	IF psi_alert < psi_warn THEN
		RAISE EXCEPTION 'psi_alert (%) must not be below psi_warn (%)', psi_alert, psi_warn
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM fs_internal.write('create_drift_monitor', name, vv.view_name, version, reference, features, metrics,
							  psi_warn, psi_alert, js_threshold, wasserstein_threshold, linf_threshold,
							  p_value_threshold, channel);
END;
$$;
COMMENT ON FUNCTION fs.create_drift_monitor(text, text, tstzrange, text[], text, int, text[], float8, float8, float8, float8, float8, float8) IS
	'creates or updates (idempotently) a drift monitor comparing each new UTC day of a feature view with a reference window';

-- Creates or updates a monitor: a new one belongs to its caller; changing one
-- needs membership in its owner role.
CREATE OR REPLACE FUNCTION fs_internal.w_create_drift_monitor(caller regrole, name text, view text, version int,
	reference tstzrange, features text[], metrics text[], psi_warn float8, psi_alert float8, js_threshold float8,
	wasserstein_threshold float8, linf_threshold float8, p_value_threshold float8, channel text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	bad name;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext('monitor:' || name));
	SELECT x.owner_role INTO bad FROM fs.drift_monitors x
	 WHERE x.name = w_create_drift_monitor.name AND NOT pg_has_role(caller, x.owner_role, 'USAGE');
	IF FOUND THEN
		RAISE EXCEPTION 'must be a member of role "%" to change drift monitor "%"', bad, name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF NOT has_table_privilege(caller, fs_internal.storage_rel(fs_internal.view_version(view, version), false), 'SELECT') THEN
		RAISE EXCEPTION 'permission denied to monitor feature view "%"', view USING ERRCODE = 'insufficient_privilege';
	END IF;
	INSERT INTO fs.drift_monitors AS m (name, view_name, version, reference, features, metrics, psi_warn, psi_alert,
		js_threshold, wasserstein_threshold, linf_threshold, p_value_threshold, channel, owner_role)
	VALUES (name, view, version, reference, features, metrics, psi_warn, psi_alert,
		js_threshold, wasserstein_threshold, linf_threshold, p_value_threshold, channel, fs_internal.role_name(caller))
	ON CONFLICT ON CONSTRAINT drift_monitors_pkey DO UPDATE
	   SET view_name = EXCLUDED.view_name, version = EXCLUDED.version, reference = EXCLUDED.reference,
		   features = EXCLUDED.features, metrics = EXCLUDED.metrics, psi_warn = EXCLUDED.psi_warn,
		   psi_alert = EXCLUDED.psi_alert, js_threshold = EXCLUDED.js_threshold,
		   wasserstein_threshold = EXCLUDED.wasserstein_threshold, linf_threshold = EXCLUDED.linf_threshold,
		   p_value_threshold = EXCLUDED.p_value_threshold, channel = EXCLUDED.channel,
		   last_checked_day = CASE WHEN m.view_name = EXCLUDED.view_name
									 AND m.reference = EXCLUDED.reference
									 AND m.version IS NOT DISTINCT FROM EXCLUDED.version
								   THEN m.last_checked_day END;
	RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_create_drift_monitor(regrole, text, text, int, tstzrange, text[], text[], float8,
	float8, float8, float8, float8, float8, text) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_create_drift_monitor(regrole, text, text, int, tstzrange, text[], text[], float8,
	float8, float8, float8, float8, float8, text) IS 'internal catalog operation: creates or updates a drift monitor';

CREATE OR REPLACE FUNCTION fs_internal.w_drop_drift_monitor(caller regrole, name text) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	owner name;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext('monitor:' || name));
	SELECT m.owner_role INTO owner FROM fs.drift_monitors m WHERE m.name = w_drop_drift_monitor.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'drift monitor "%" does not exist', name USING ERRCODE = 'undefined_object';
	END IF;
	IF NOT pg_has_role(caller, owner, 'USAGE') THEN
		RAISE EXCEPTION 'must be a member of role "%" to drop drift monitor "%"', owner, name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	DELETE FROM fs.drift_monitors m WHERE m.name = w_drop_drift_monitor.name;
	RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_drop_drift_monitor(regrole, text) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_drop_drift_monitor(regrole, text) IS 'internal catalog operation: drops a drift monitor';

CREATE OR REPLACE FUNCTION fs.drop_drift_monitor(name text) RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
BEGIN
	PERFORM fs_internal.write('drop_drift_monitor', name);
END;
$$;
COMMENT ON FUNCTION fs.drop_drift_monitor(text) IS 'drops a drift monitor (its alerts and the daily profiles stay)';

-- Stores the missing daily profiles of one view version for days in [first, before).
CREATE OR REPLACE FUNCTION fs_internal.drift_profile_days(vv fs.view_versions, first date, before date) RETURNS int
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	ts text := fs_internal.ts_expr(vv);
	cols text := '';
	pairs text := '';
	f record;
	n int := 0;
	done int;
BEGIN
	IF first IS NULL OR first >= before THEN
		RETURN 0;
	END IF;
	FOR f IN SELECT vf.name, vf.type FROM fs.view_features vf
			  WHERE vf.view_name = vv.view_name AND vf.version = vv.version ORDER BY vf.position LOOP
		n := n + 1;
		cols := cols || format(', fs.profile(%s) AS p%s', fs_internal.profile_expr(f.name, f.type), n);
		pairs := pairs || CASE WHEN n > 1 THEN ', ' ELSE '' END || format('(%s, p%s)', quote_literal(f.name), n);
	END LOOP;
	IF n = 0 THEN
		RETURN 0;
	END IF;
	-- days already stored are skipped: a day is profiled once, when it is complete
	EXECUTE format(
		'INSERT INTO fs.drift_profiles (view_name, version, feature, day, profile) '
		'SELECT $1, $2, p.feature, d.day, p.profile '
		'  FROM (SELECT (%1$s AT TIME ZONE ''UTC'')::date AS day %2$s '
		'          FROM %3$s '
		'         WHERE %1$s >= ($3::timestamp AT TIME ZONE ''UTC'') AND %1$s < ($4::timestamp AT TIME ZONE ''UTC'') '
		'         GROUP BY 1) d, '
		'       LATERAL (VALUES %4$s) p(feature, profile) '
		' WHERE NOT EXISTS (SELECT FROM fs.drift_profiles x WHERE x.view_name = $1 AND x.version = $2 '
		'                     AND x.feature = p.feature AND x.day = d.day)',
		ts, cols, fs_internal.history_rows(vv), pairs)
		USING vv.view_name, vv.version, first, before;
	GET DIAGNOSTICS done = ROW_COUNT;
	RETURN done;
END;
$$;
COMMENT ON FUNCTION fs_internal.drift_profile_days(fs.view_versions, date, date) IS
	'internal: stores the daily profiles of a view version that are missing for the given days';
REVOKE ALL ON FUNCTION fs_internal.drift_profile_days(fs.view_versions, date, date) FROM PUBLIC;

-- Runs one drift monitor for its caller: stores missing daily profiles,
-- compares each new complete day with the reference, records alerts and
-- NOTIFYs.  It reads only the history table feature_store created (checked by
-- OID), and its owner must still be allowed to read it.
CREATE OR REPLACE FUNCTION fs_internal.w_run_drift_monitor(caller regrole, name text, as_of timestamptz) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	m fs.drift_monitors;
	vv fs.view_versions;
	today date := (as_of AT TIME ZONE 'UTC')::date;
	ref_first date;
	ref_before date;
	first_day date;
	d date;
	r record;
	n_alerts int := 0;
	n_days int := 0;
	n_profiles int := 0;
BEGIN
	-- one run per monitor at a time: a concurrent run waits, then sees the days checked
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext('monitor:' || name));
	SELECT * INTO m FROM fs.drift_monitors x WHERE x.name = w_run_drift_monitor.name;
	IF NOT FOUND OR NOT m.enabled THEN
		RETURN NULL;
	END IF;
	IF NOT pg_has_role(caller, m.owner_role, 'USAGE') THEN
		RAISE EXCEPTION 'must be a member of role "%" to run drift monitor "%"', m.owner_role, name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	vv := fs_internal.view_version(m.view_name, m.version);
	IF NOT has_table_privilege(m.owner_role, fs_internal.storage_rel(vv, false), 'SELECT') THEN
		RAISE EXCEPTION 'owner "%" of drift monitor "%" may no longer read the history of feature view "%"',
			m.owner_role, name, vv.view_name USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF m.checked_version IS DISTINCT FROM vv.version THEN
		m.last_checked_day := NULL;		-- a new version: start over from its reference
	END IF;
	ref_first := (lower(m.reference) AT TIME ZONE 'UTC')::date;
	ref_before := (upper(m.reference) AT TIME ZONE 'UTC')::date;
	-- complete days only: the reference window once, then the days after it up to yesterday
	IF m.last_checked_day IS NULL THEN
		n_profiles := fs_internal.drift_profile_days(vv, ref_first, LEAST(ref_before, today));
	END IF;
	first_day := GREATEST(ref_before, COALESCE(m.last_checked_day + 1, ref_before));
	n_profiles := n_profiles + fs_internal.drift_profile_days(vv, first_day, today);
	FOR d IN SELECT DISTINCT p.day FROM fs.drift_profiles p
			  WHERE p.view_name = vv.view_name AND p.version = vv.version
				AND p.day >= first_day AND p.day < today
			  ORDER BY p.day LOOP
		n_days := n_days + 1;
		FOR r IN
			WITH ref AS (
				SELECT p.feature, fs.profile_merge(p.profile) AS profile
				  FROM fs.drift_profiles p
				 WHERE p.view_name = vv.view_name AND p.version = vv.version
				   AND p.day >= ref_first AND p.day < ref_before
				   AND (m.features IS NULL OR p.feature = ANY (m.features))
				 GROUP BY p.feature)
			SELECT c.feature, x.metric, x.value, x.threshold,
				   CASE WHEN x.metric = 'psi' AND x.value < m.psi_alert THEN 'warn' ELSE 'alert' END AS severity
			  FROM fs.drift_profiles c
			  JOIN ref ON ref.feature = c.feature,
				   LATERAL fs.drift(ref.profile, c.profile, m.psi_warn, m.js_threshold,
									m.wasserstein_threshold, m.linf_threshold, m.p_value_threshold) x
			 WHERE c.view_name = vv.view_name AND c.version = vv.version AND c.day = d
			   AND x.drifted AND x.metric = ANY (m.metrics)
			 ORDER BY c.feature, x.metric
		LOOP
			INSERT INTO fs.drift_alerts (monitor, view_name, version, feature, day, metric, value, threshold, severity)
			VALUES (m.name, vv.view_name, vv.version, r.feature, d, r.metric, r.value, r.threshold, r.severity);
			PERFORM pg_notify(m.channel, json_build_object(
				'monitor', m.name, 'view', vv.view_name, 'version', vv.version, 'feature', r.feature,
				'day', d, 'metric', r.metric, 'value', r.value, 'threshold', r.threshold,
				'severity', r.severity)::text);
			n_alerts := n_alerts + 1;
		END LOOP;
		UPDATE fs.drift_monitors x SET last_checked_day = d, checked_version = vv.version
		 WHERE x.name = m.name;
	END LOOP;
	UPDATE fs.drift_monitors x
	   SET last_run = jsonb_build_object('at', as_of, 'days_checked', n_days, 'profiles_stored', n_profiles,
										 'alerts', n_alerts),
		   last_error = NULL, last_error_at = NULL
	 WHERE x.name = m.name;
	RETURN n_alerts;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_run_drift_monitor(regrole, text, timestamptz) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_run_drift_monitor(regrole, text, timestamptz) IS
	'internal catalog operation: runs one drift monitor';

-- Records why a monitor's run failed (the run itself was rolled back).
CREATE OR REPLACE FUNCTION fs_internal.w_drift_monitor_failed(caller regrole, name text, error text) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
BEGIN
	UPDATE fs.drift_monitors x SET last_error = error, last_error_at = now()
	 WHERE x.name = w_drift_monitor_failed.name AND pg_has_role(caller, x.owner_role, 'USAGE');
	RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_drift_monitor_failed(regrole, text, text) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_drift_monitor_failed(regrole, text, text) IS
	'internal catalog operation: records the error of a failed drift monitor run';

-- Runs every enabled monitor whose owner role the caller has the privileges
-- of (a superuser: all), each in its own subtransaction: one that fails is
-- recorded (fs.drift_monitors.last_error, and the error column here) and the
-- others still run.
CREATE OR REPLACE FUNCTION fs.run_drift_monitors(as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (monitor text, days_checked int, profiles_stored int, alerts int, error text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	mon text;
	run jsonb;
BEGIN
	FOR mon IN SELECT x.name FROM fs.drift_monitors x
				WHERE x.enabled AND pg_has_role(x.owner_role, 'USAGE') ORDER BY x.name LOOP
		monitor := mon;
		days_checked := NULL;
		profiles_stored := NULL;
		alerts := NULL;
		error := NULL;
		BEGIN
			PERFORM fs_internal.write('run_drift_monitor', mon, as_of);
			SELECT x.last_run INTO run FROM fs.drift_monitors x WHERE x.name = mon;
			days_checked := (run ->> 'days_checked')::int;
			profiles_stored := (run ->> 'profiles_stored')::int;
			alerts := (run ->> 'alerts')::int;
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS error = MESSAGE_TEXT;
			PERFORM fs_internal.write('drift_monitor_failed', mon, error);
		END;
		RETURN NEXT;
	END LOOP;
END;
$$;
COMMENT ON FUNCTION fs.run_drift_monitors(timestamptz) IS
	'runs every enabled drift monitor the caller may run (all for a superuser), one failure not stopping the others: stores missing daily profiles, compares each new complete day with the reference, records alerts and NOTIFYs their channel; call it from any scheduler';

CREATE OR REPLACE VIEW fs.drift_monitor_status AS
SELECT m.name AS monitor, m.view_name AS view, m.version, m.reference, m.channel, m.enabled,
	   m.last_checked_day,
	   (SELECT pg_catalog.count(*) FROM fs.drift_alerts a WHERE a.monitor = m.name) AS alerts,
	   (SELECT pg_catalog.max(a.day) FROM fs.drift_alerts a WHERE a.monitor = m.name) AS last_alert_day
  FROM fs.drift_monitors m;
COMMENT ON VIEW fs.drift_monitor_status IS 'drift monitors with the last day checked and their alert counts';
GRANT SELECT ON fs.drift_monitor_status TO PUBLIC;

-- Daily profiles and alerts summarize a version's history: visible to the
-- roles that may read it.
DROP POLICY IF EXISTS history_readers ON fs.drift_profiles;
CREATE POLICY history_readers ON fs.drift_profiles FOR SELECT
	USING (fs_internal.can_read_history(view_name, version));
DROP POLICY IF EXISTS history_readers ON fs.drift_alerts;
CREATE POLICY history_readers ON fs.drift_alerts FOR SELECT
	USING (fs_internal.can_read_history(view_name, version));
