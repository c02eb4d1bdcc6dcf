
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

-- The version an unpinned reference (view:feature) resolves to: the newest
-- one that has been materialized successfully, so registering a new version
-- does not make reads return NULL until its first run; the newest version
-- when none has been.
CREATE OR REPLACE FUNCTION fs_internal.serving_version(view text) RETURNS fs.view_versions
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
	vv fs.view_versions;
BEGIN
	SELECT * INTO vv FROM fs.view_versions x
	 WHERE x.view_name = view AND x.first_success_at IS NOT NULL
	 ORDER BY x.version DESC LIMIT 1;
	IF NOT FOUND THEN
		vv := fs_internal.view_version(view);
	END IF;
	RETURN vv;
END;
$$;
COMMENT ON FUNCTION fs_internal.serving_version(text) IS
	'internal: the version unpinned references serve: the newest materialized successfully, else the newest';

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

-- A version's first successful run makes it the one unpinned references
-- serve (fs_internal.serving_version).  Only the first success writes, so
-- later runs do not bump the catalog generation (which would make every
-- session re-resolve its cached online reads).
CREATE OR REPLACE FUNCTION fs_internal.run_succeeded() RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
BEGIN
	IF EXISTS (SELECT FROM fs.view_versions x
				WHERE x.view_name = NEW.view_name AND x.version = NEW.version AND x.first_success_at IS NULL) THEN
		UPDATE fs.view_versions x SET first_success_at = coalesce(NEW.finished_at, pg_catalog.clock_timestamp())
		 WHERE x.view_name = NEW.view_name AND x.version = NEW.version AND x.first_success_at IS NULL;
	END IF;
	RETURN NULL;
END;
$$;
COMMENT ON FUNCTION fs_internal.run_succeeded() IS
	'internal: records the first successful materialization of a feature view version';
REVOKE ALL ON FUNCTION fs_internal.run_succeeded() FROM PUBLIC;
CREATE OR REPLACE TRIGGER run_succeeded AFTER INSERT OR UPDATE OF status ON fs.materialization_runs
	FOR EACH ROW WHEN (NEW.status = 'succeeded') EXECUTE FUNCTION fs_internal.run_succeeded();

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

-- The columns of a version's batches and storage, quoted and in order: its
-- key, its event time, then its features.
CREATE OR REPLACE FUNCTION fs_internal.version_columns(vv fs.view_versions) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
	SELECT format('%I, %I', vv.key_column, vv.ts_column)
		   || coalesce(string_agg(format(', %I', f.name), '' ORDER BY f.position), '')
	  FROM fs.view_features f WHERE f.view_name = vv.view_name AND f.version = vv.version
$$;
COMMENT ON FUNCTION fs_internal.version_columns(fs.view_versions) IS
	'internal: a feature view version''s key, event time and feature columns, quoted, as a column list';

-- The expression that stamps a batch row's event time with the time its
-- values are known (README "Event time means known at"): the source's event
-- time plus available_after, bound as $3 by the publishing statements.
CREATE OR REPLACE FUNCTION fs_internal.stamp_sql(vv fs.view_versions) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
	SELECT CASE WHEN vv.available_after IS NULL THEN format('%I', vv.ts_column)
				WHEN vv.ts_type = 'date'::regtype THEN format('(%I + $3)::date', vv.ts_column)
				ELSE format('%I + $3', vv.ts_column) END
$$;
COMMENT ON FUNCTION fs_internal.stamp_sql(fs.view_versions) IS
	'internal: the SQL expression of a batch row''s event time as stored (plus available_after, parameter $3)';

-- How full an online table's pages are filled (percent): a run that updates
-- every key of a page finds room on the page for each row's new version
-- (a HOT update, no new index entry), at twice the size of a full table.
CREATE OR REPLACE FUNCTION fs_internal.online_fillfactor() RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$ SELECT 50 $$;
COMMENT ON FUNCTION fs_internal.online_fillfactor() IS
	'internal: the fillfactor of online tables, leaving room for HOT updates';

-- Whether a source query yields the same rows when read twice in one
-- statement (src/catalog.c): no volatile function, foreign table or
-- unrepeatable sample.  Materialization then gates a batch while it
-- publishes it instead of staging it (src/sql/materialize.sql).
CREATE OR REPLACE FUNCTION fs_internal.source_rereadable(query text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'fs_source_rereadable' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION fs_internal.source_rereadable(text) IS
	'internal: whether a source query reads the same rows twice in one snapshot (no volatile function, foreign table or unrepeatable sample)';

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
