
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
	   vv.available_after,
	   vv.version = (fs_internal.serving_version(v.name)).version AS serving,
	   vv.first_success_at,
	   vv.quarantine_relid AS quarantine_relation,
	   vv.push_relid AS push_relation
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
	-- one event time by creation) and online (one row per key, updated in
	-- place: its pages keep room for a new version of each row, so that
	-- updates are HOT and leave the key's index alone).
	hist := fs_internal.storage_name(name, n, '');
	onl := fs_internal.storage_name(name, n, '_online');
	-- Types are spelled with typmod -1, which names the type without a length
	-- limit ("bpchar", not "character", which would mean char(1)): versions
	-- record types without their modifiers.
	FOR i IN 1 .. cardinality(feat_names) LOOP
		cols := cols || format(', %I %s', feat_names[i], format_type(feat_types[i], -1));
	END LOOP;
	EXECUTE format('CREATE TABLE fs_data.%I (%I %s NOT NULL, %I %s NOT NULL, '
				   'fs_created_at timestamptz NOT NULL DEFAULT pg_catalog.now()%s, PRIMARY KEY (%I, %I, fs_created_at))',
				   hist, key_column, format_type(e.key_type, -1), ts_column, format_type(ts_type, -1), cols,
				   key_column, ts_column);
	EXECUTE format('CREATE TABLE fs_data.%I (%I %s PRIMARY KEY, %I %s NOT NULL, '
				   'fs_created_at timestamptz NOT NULL%s) WITH (fillfactor = %s)',
				   onl, key_column, format_type(e.key_type, -1), ts_column, format_type(ts_type, -1), cols,
				   fs_internal.online_fillfactor());
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
		 WHERE c.oid IN (vv.history_relid, vv.online_relid, vv.quarantine_relid, vv.stage_relid,
						 vv.push_relid) AND c.relkind = 'r'
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
