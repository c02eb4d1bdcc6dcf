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
