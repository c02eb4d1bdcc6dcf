
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
	   pg_catalog.to_regclass(pg_catalog.format('fs_data.%I', vv.history_table)) AS history_relation,
	   pg_catalog.to_regclass(pg_catalog.format('fs_data.%I', vv.online_table)) AS online_relation,
	   v.owner_role
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

CREATE OR REPLACE FUNCTION fs.create_entity(name text, key_type regtype, description text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	e fs.entities;
BEGIN
	PERFORM fs_internal.check_name('entity', name);
	IF key_type IS NULL THEN
		RAISE EXCEPTION 'key type of entity "%" must not be null', name USING ERRCODE = 'null_value_not_allowed';
	END IF;
	PERFORM fs_internal.check_key_type(name, key_type);
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext('entity:' || name));
	SELECT * INTO e FROM fs.entities x WHERE x.name = create_entity.name;
	IF FOUND THEN
		IF e.key_type <> create_entity.key_type THEN
			RAISE EXCEPTION 'entity "%" already exists with key type %', name, e.key_type
				USING ERRCODE = 'duplicate_object',
					  HINT = 'Entity key types cannot change; create an entity with another name.';
		END IF;
		-- Registering again is a no-op, apart from a new description.
		IF description IS NOT NULL AND description IS DISTINCT FROM e.description THEN
			IF NOT pg_has_role(e.owner_role, 'USAGE') THEN
				RAISE EXCEPTION 'must be owner of entity "%"', name USING ERRCODE = 'insufficient_privilege';
			END IF;
			UPDATE fs.entities x SET description = create_entity.description WHERE x.name = create_entity.name;
		END IF;
		RETURN;
	END IF;
	INSERT INTO fs.entities (name, key_type, description) VALUES (name, key_type, description);
END;
$$;
COMMENT ON FUNCTION fs.create_entity(text, regtype, text) IS
	'creates an entity with its key type; calling it again with the same key type is a no-op';

CREATE OR REPLACE FUNCTION fs.drop_entity(name text, cascade boolean DEFAULT false) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	e fs.entities;
	views text;
	v text;
BEGIN
	SELECT * INTO e FROM fs.entities x WHERE x.name = drop_entity.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'entity "%" does not exist', name USING ERRCODE = 'undefined_object';
	END IF;
	IF NOT pg_has_role(e.owner_role, 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of entity "%"', name USING ERRCODE = 'insufficient_privilege';
	END IF;
	SELECT string_agg(format('%I', x.name), ', ' ORDER BY x.name) INTO views FROM fs.views x WHERE x.entity = drop_entity.name;
	IF views IS NOT NULL AND NOT cascade THEN
		RAISE EXCEPTION 'cannot drop entity "%" because feature views depend on it', name
			USING ERRCODE = 'dependent_objects_still_exist',
				  DETAIL = format('Feature views: %s.', views),
				  HINT = 'Drop the feature views first, or pass cascade => true.';
	END IF;
	FOR v IN SELECT x.name FROM fs.views x WHERE x.entity = drop_entity.name ORDER BY x.name LOOP
		PERFORM fs.drop_feature_view(v, NULL, true);
	END LOOP;
	DELETE FROM fs.entities x WHERE x.name = drop_entity.name;
END;
$$;

------------------------------------------------------------------------------
-- Feature views
------------------------------------------------------------------------------

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
	search_path text
) RETURNS int
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
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
	n int;
	hist text;
	onl text;
	cols text := '';
	dup text;
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
	IF feature_descriptions IS NOT NULL AND jsonb_typeof(feature_descriptions) <> 'object' THEN
		RAISE EXCEPTION 'feature_descriptions of feature view "%" must be a JSON object', name
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	SELECT * INTO e FROM fs.entities x WHERE x.name = register_feature_view.entity;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'entity "%" does not exist', entity
			USING ERRCODE = 'undefined_object', HINT = 'Create it with fs.create_entity().';
	END IF;

	-- Concurrent registrations of one view take turns.
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext('view:' || name));
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
	PERFORM set_config('search_path', register_feature_view.search_path, true);
	src := fs_internal.describe_source(format('source of feature view "%s"', name), source);
	PERFORM set_config('search_path', 'pg_catalog', true);
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
	IF ts_t NOT IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN
		RAISE EXCEPTION 'timestamp column "%" of feature view "%" has type %', ts_column, name, ts_t
			USING ERRCODE = 'datatype_mismatch', HINT = 'It must be timestamptz, timestamp or date.';
	END IF;
	IF key_pos = ts_pos THEN
		RAISE EXCEPTION 'feature view "%" uses column "%" as both key and timestamp', name, key_column
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT c INTO dup FROM unnest(src.column_names) c GROUP BY c HAVING count(*) > 1 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'source of feature view "%" has more than one column named "%"', name, dup
			USING ERRCODE = 'duplicate_column';
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
	IF cardinality(feat_names) = 0 THEN
		RAISE EXCEPTION 'source of feature view "%" has no feature columns', name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Every column other than the key and timestamp is a feature.';
	END IF;

	-- Metadata (not part of a version) is updated in place, only when it changes.
	IF v.name IS NULL THEN
		INSERT INTO fs.views (name, entity, schedule, description, owner, tags, feature_descriptions)
		VALUES (name, e.name, schedule, description, coalesce(owner, current_user::text),
				coalesce(tags, '{}'), coalesce(feature_descriptions, '{}'))
		RETURNING * INTO v;
	ELSE
		UPDATE fs.views x SET
			schedule = register_feature_view.schedule,
			description = coalesce(register_feature_view.description, x.description),
			owner = coalesce(register_feature_view.owner, x.owner),
			tags = coalesce(register_feature_view.tags, x.tags),
			feature_descriptions = coalesce(register_feature_view.feature_descriptions, x.feature_descriptions),
			updated_at = now()
		 WHERE x.name = v.name
		   AND (x.schedule, x.description, x.owner, x.tags, x.feature_descriptions) IS DISTINCT FROM
			   (register_feature_view.schedule,
				coalesce(register_feature_view.description, x.description),
				coalesce(register_feature_view.owner, x.owner),
				coalesce(register_feature_view.tags, x.tags),
				coalesce(register_feature_view.feature_descriptions, x.feature_descriptions));

		-- An identical definition is the latest version.
		SELECT * INTO latest FROM fs.view_versions x WHERE x.view_name = v.name ORDER BY x.version DESC LIMIT 1;
		IF FOUND
		   AND latest.source_query = src.query
		   AND latest.search_path = register_feature_view.search_path
		   AND latest.key_column = register_feature_view.key_column
		   AND latest.ts_column = register_feature_view.ts_column
		   AND latest.key_type = e.key_type AND latest.ts_type = ts_t
		   AND latest.ttl IS NOT DISTINCT FROM register_feature_view.ttl
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

	-- Storage: history (unique on key and event time) and online (one row per key).
	hist := fs_internal.storage_name(name, n, '');
	onl := fs_internal.storage_name(name, n, '_online');
	FOR i IN 1 .. cardinality(feat_names) LOOP
		cols := cols || format(', %I %s', feat_names[i], format_type(feat_types[i], NULL));
	END LOOP;
	EXECUTE format('CREATE TABLE fs_data.%I (%I %s NOT NULL, %I %s NOT NULL, '
				   'fs_created_at timestamptz NOT NULL DEFAULT pg_catalog.now()%s, PRIMARY KEY (%I, %I))',
				   hist, key_column, format_type(e.key_type, NULL), ts_column, format_type(ts_t, NULL), cols,
				   key_column, ts_column);
	EXECUTE format('CREATE TABLE fs_data.%I (%I %s PRIMARY KEY, %I %s NOT NULL, '
				   'fs_created_at timestamptz NOT NULL%s)',
				   onl, key_column, format_type(e.key_type, NULL), ts_column, format_type(ts_t, NULL), cols);
	EXECUTE format('COMMENT ON TABLE fs_data.%I IS %L', hist,
				   format('feature_store: history of feature view %s version %s', name, n));
	EXECUTE format('COMMENT ON TABLE fs_data.%I IS %L', onl,
				   format('feature_store: online store of feature view %s version %s', name, n));

	INSERT INTO fs.view_versions (view_name, version, source, source_query, search_path, key_column, key_type,
								  ts_column, ts_type, ttl, history_table, online_table)
	VALUES (v.name, n, source, src.query, search_path, key_column, e.key_type, ts_column, ts_t, ttl, hist, onl);
	INSERT INTO fs.view_features (view_name, version, position, name, type)
	SELECT v.name, n, o, f, t FROM unnest(feat_names, feat_types) WITH ORDINALITY AS u(f, t, o);
	RETURN n;
END;
$$;
COMMENT ON FUNCTION fs_internal.register_feature_view(text, text, text, text, text, interval, interval, text, text, text[], jsonb, text) IS
	'internal: fs.register_feature_view with the schemas the source resolves in';

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
	feature_descriptions jsonb DEFAULT NULL
) RETURNS int
LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $$
	SELECT fs_internal.register_feature_view($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
		(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(s), ', ' ORDER BY o)
		   FROM pg_catalog.unnest(pg_catalog.current_schemas(false)) WITH ORDINALITY AS u(s, o)))
$$;
COMMENT ON FUNCTION fs.register_feature_view(text, text, text, text, text, interval, interval, text, text, text[], jsonb) IS
	'registers a feature view; returns the new version, or the latest one when the definition is unchanged';

CREATE OR REPLACE FUNCTION fs.drop_feature_view(name text, version int DEFAULT NULL, cascade boolean DEFAULT false) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	v fs.views;
	vv fs.view_versions;
	mode text := CASE WHEN cascade THEN 'CASCADE' ELSE 'RESTRICT' END;
BEGIN
	SELECT * INTO v FROM fs.views x WHERE x.name = drop_feature_view.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'feature view "%" does not exist', name USING ERRCODE = 'undefined_object';
	END IF;
	IF NOT pg_has_role(v.owner_role, 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of feature view "%"', name USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF version IS NOT NULL THEN
		PERFORM fs_internal.view_version(name, version);
	END IF;
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext('view:' || name));
	FOR vv IN SELECT * FROM fs.view_versions x
			   WHERE x.view_name = v.name AND (x.version = drop_feature_view.version OR drop_feature_view.version IS NULL)
	LOOP
		-- Objects that depend on the storage (views over it) block the drop unless cascading.
		BEGIN
			EXECUTE format('DROP TABLE IF EXISTS fs_data.%I, fs_data.%I %s', vv.history_table, vv.online_table, mode);
		EXCEPTION WHEN dependent_objects_still_exist THEN
			RAISE EXCEPTION 'cannot drop version % of feature view "%" because other objects depend on its storage',
				vv.version, name
				USING ERRCODE = 'dependent_objects_still_exist',
					  HINT = 'Drop the dependent objects first, or pass cascade => true.';
		END;
		DELETE FROM fs.view_versions x WHERE x.view_name = vv.view_name AND x.version = vv.version;
	END LOOP;
	IF version IS NULL THEN
		DELETE FROM fs.views x WHERE x.name = v.name;
	END IF;
END;
$$;
COMMENT ON FUNCTION fs.drop_feature_view(text, int, boolean) IS
	'drops one version of a feature view, or the whole view when version is NULL, with its storage';
