\echo Use "CREATE EXTENSION feature_store" to load this file. \quit

-- feature_store 0.1: the foundation.  Entities, versioned feature views, the
-- offline (history) and online stores, manual materialization, online reads
-- and the fs.feature_ref type.
--
-- Security model.  Every function runs as its caller, never with its definer's rights.
-- Catalog tables are readable by everyone and writable only through row-level
-- security policies that require membership in the row's owner role, so a
-- role can change only what it owns, as with PostgreSQL's own objects.
-- Storage tables live in schema fs_data, are created by and owned by the
-- registering role, and are read and written with the caller's privileges:
-- reading features needs SELECT on them (GRANT, or ALTER DEFAULT PRIVILEGES
-- FOR ROLE owner IN SCHEMA fs_data).  REVOKE CREATE ON SCHEMA fs_data FROM
-- PUBLIC restricts who may define features.

COMMENT ON SCHEMA fs IS 'feature_store: entities, feature views, online and offline feature stores';
GRANT USAGE ON SCHEMA fs TO PUBLIC;

CREATE SCHEMA fs_data;
COMMENT ON SCHEMA fs_data IS 'feature_store storage: one history and one online table per feature view version';
GRANT USAGE, CREATE ON SCHEMA fs_data TO PUBLIC;

------------------------------------------------------------------------------
-- fs.feature_ref
------------------------------------------------------------------------------

CREATE TYPE fs.feature_ref;

CREATE FUNCTION fs.feature_ref_in(cstring) RETURNS fs.feature_ref
	AS 'MODULE_PATHNAME', 'feature_ref_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs.feature_ref_out(fs.feature_ref) RETURNS cstring
	AS 'MODULE_PATHNAME', 'feature_ref_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs.feature_ref_recv(internal) RETURNS fs.feature_ref
	AS 'MODULE_PATHNAME', 'feature_ref_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs.feature_ref_send(fs.feature_ref) RETURNS bytea
	AS 'MODULE_PATHNAME', 'feature_ref_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE fs.feature_ref (
	INPUT = fs.feature_ref_in,
	OUTPUT = fs.feature_ref_out,
	RECEIVE = fs.feature_ref_recv,
	SEND = fs.feature_ref_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = int4,
	STORAGE = extended
);
COMMENT ON TYPE fs.feature_ref IS
	'reference to a feature: view:feature, view@N:feature (pinned version), view:* or view@N:*';

-- Text arrays written in dbt models or by hand convert without ceremony.
CREATE CAST (text AS fs.feature_ref) WITH INOUT AS IMPLICIT;

CREATE FUNCTION fs.feature_ref(view text, feature text, version int DEFAULT NULL) RETURNS fs.feature_ref
	AS 'MODULE_PATHNAME', 'feature_ref_make' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION fs.feature_ref(text, text, int) IS
	'builds a feature reference from a view name, a feature name (or *) and an optional pinned version';

CREATE FUNCTION fs.ref_view(fs.feature_ref) RETURNS text
	AS 'MODULE_PATHNAME', 'feature_ref_view' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.ref_view(fs.feature_ref) IS 'the feature view a reference names';
CREATE FUNCTION fs.ref_version(fs.feature_ref) RETURNS int
	AS 'MODULE_PATHNAME', 'feature_ref_version' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.ref_version(fs.feature_ref) IS 'the pinned version of a reference, NULL for the latest';
CREATE FUNCTION fs.ref_feature(fs.feature_ref) RETURNS text
	AS 'MODULE_PATHNAME', 'feature_ref_feature' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.ref_feature(fs.feature_ref) IS 'the feature a reference names, NULL for view:*';

CREATE FUNCTION fs.feature_ref_eq(fs.feature_ref, fs.feature_ref) RETURNS bool
	AS 'MODULE_PATHNAME', 'feature_ref_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs.feature_ref_ne(fs.feature_ref, fs.feature_ref) RETURNS bool
	AS 'MODULE_PATHNAME', 'feature_ref_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs.feature_ref_lt(fs.feature_ref, fs.feature_ref) RETURNS bool
	AS 'MODULE_PATHNAME', 'feature_ref_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs.feature_ref_le(fs.feature_ref, fs.feature_ref) RETURNS bool
	AS 'MODULE_PATHNAME', 'feature_ref_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs.feature_ref_gt(fs.feature_ref, fs.feature_ref) RETURNS bool
	AS 'MODULE_PATHNAME', 'feature_ref_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs.feature_ref_ge(fs.feature_ref, fs.feature_ref) RETURNS bool
	AS 'MODULE_PATHNAME', 'feature_ref_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs.feature_ref_cmp(fs.feature_ref, fs.feature_ref) RETURNS int
	AS 'MODULE_PATHNAME', 'feature_ref_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs.feature_ref_hash(fs.feature_ref) RETURNS int
	AS 'MODULE_PATHNAME', 'feature_ref_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The comparison operators live in pg_catalog so that they resolve whatever
-- the search_path; they take only fs.feature_ref, so nothing can collide.
CREATE OPERATOR pg_catalog.= (LEFTARG = fs.feature_ref, RIGHTARG = fs.feature_ref, PROCEDURE = fs.feature_ref_eq,
	COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>), RESTRICT = eqsel, JOIN = eqjoinsel,
	HASHES, MERGES);
CREATE OPERATOR pg_catalog.<> (LEFTARG = fs.feature_ref, RIGHTARG = fs.feature_ref, PROCEDURE = fs.feature_ref_ne,
	COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=), RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR pg_catalog.< (LEFTARG = fs.feature_ref, RIGHTARG = fs.feature_ref, PROCEDURE = fs.feature_ref_lt,
	COMMUTATOR = OPERATOR(pg_catalog.>), NEGATOR = OPERATOR(pg_catalog.>=), RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR pg_catalog.<= (LEFTARG = fs.feature_ref, RIGHTARG = fs.feature_ref, PROCEDURE = fs.feature_ref_le,
	COMMUTATOR = OPERATOR(pg_catalog.>=), NEGATOR = OPERATOR(pg_catalog.>), RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR pg_catalog.> (LEFTARG = fs.feature_ref, RIGHTARG = fs.feature_ref, PROCEDURE = fs.feature_ref_gt,
	COMMUTATOR = OPERATOR(pg_catalog.<), NEGATOR = OPERATOR(pg_catalog.<=), RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR pg_catalog.>= (LEFTARG = fs.feature_ref, RIGHTARG = fs.feature_ref, PROCEDURE = fs.feature_ref_ge,
	COMMUTATOR = OPERATOR(pg_catalog.<=), NEGATOR = OPERATOR(pg_catalog.<), RESTRICT = scalargesel, JOIN = scalargejoinsel);

CREATE OPERATOR CLASS fs.feature_ref_ops DEFAULT FOR TYPE fs.feature_ref USING btree AS
	OPERATOR 1 pg_catalog.<, OPERATOR 2 pg_catalog.<=, OPERATOR 3 pg_catalog.=, OPERATOR 4 pg_catalog.>=,
	OPERATOR 5 pg_catalog.>,
	FUNCTION 1 fs.feature_ref_cmp(fs.feature_ref, fs.feature_ref);
CREATE OPERATOR CLASS fs.feature_ref_hash_ops DEFAULT FOR TYPE fs.feature_ref USING hash AS
	OPERATOR 1 pg_catalog.=,
	FUNCTION 1 fs.feature_ref_hash(fs.feature_ref);

------------------------------------------------------------------------------
-- Catalog tables
------------------------------------------------------------------------------

CREATE TABLE fs.entities (
	name text PRIMARY KEY,
	key_type regtype NOT NULL,
	description text,
	owner_role name NOT NULL DEFAULT current_user,
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE fs.entities IS 'entities: the things features describe, with the type of their key';

CREATE TABLE fs.views (
	name text PRIMARY KEY,
	entity text NOT NULL REFERENCES fs.entities (name),
	schedule interval,
	description text,
	owner text,
	tags text[] NOT NULL DEFAULT '{}',
	feature_descriptions jsonb NOT NULL DEFAULT '{}',
	owner_role name NOT NULL DEFAULT current_user,
	last_version int NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE fs.views IS 'feature views: metadata shared by all versions (use fs.feature_views to read)';

CREATE TABLE fs.view_versions (
	view_name text NOT NULL REFERENCES fs.views (name) ON DELETE CASCADE,
	version int NOT NULL CHECK (version > 0),
	source text NOT NULL,
	source_query text NOT NULL,
	search_path text NOT NULL,
	key_column text NOT NULL,
	key_type regtype NOT NULL,
	ts_column text NOT NULL,
	ts_type regtype NOT NULL,
	ttl interval,
	history_table text NOT NULL,
	online_table text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	created_by name NOT NULL DEFAULT current_user,
	PRIMARY KEY (view_name, version)
);
COMMENT ON TABLE fs.view_versions IS 'immutable feature view versions: definition and storage tables';

CREATE TABLE fs.view_features (
	view_name text NOT NULL,
	version int NOT NULL,
	position int NOT NULL,
	name text NOT NULL,
	type regtype NOT NULL,
	PRIMARY KEY (view_name, version, name),
	FOREIGN KEY (view_name, version) REFERENCES fs.view_versions (view_name, version) ON DELETE CASCADE
);
COMMENT ON TABLE fs.view_features IS 'the features (columns) of each feature view version';

CREATE TABLE fs.materialization_runs (
	run_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	view_name text NOT NULL,
	version int NOT NULL,
	window_start timestamptz,
	window_finish timestamptz,
	started_at timestamptz NOT NULL,
	finished_at timestamptz,
	duration interval,
	rows_read bigint,
	rows_written bigint,
	online_rows bigint,
	status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
	error text,
	trigger text NOT NULL DEFAULT 'manual',
	run_by name NOT NULL DEFAULT current_user
);
CREATE INDEX ON fs.materialization_runs (view_name, version, started_at);
COMMENT ON TABLE fs.materialization_runs IS 'every materialization run: window, rows, duration, status and error';

-- The catalog generation: bumped by every change to the tables above (statement
-- triggers below), so that cached lookup plans know when to rebuild.
CREATE TABLE fs.catalog_state (generation bigint NOT NULL);
INSERT INTO fs.catalog_state VALUES (0);
COMMENT ON TABLE fs.catalog_state IS 'internal: a counter bumped by every catalog change';

-- Catalog contents are user data: pg_dump keeps them.
SELECT pg_catalog.pg_extension_config_dump('fs.entities', '');
SELECT pg_catalog.pg_extension_config_dump('fs.views', '');
SELECT pg_catalog.pg_extension_config_dump('fs.view_versions', '');
SELECT pg_catalog.pg_extension_config_dump('fs.view_features', '');
SELECT pg_catalog.pg_extension_config_dump('fs.materialization_runs', '');

-- Everyone reads the catalog; rows change only for members of their owner role.
GRANT SELECT ON fs.entities, fs.views, fs.view_versions, fs.view_features, fs.materialization_runs TO PUBLIC;
GRANT INSERT, UPDATE, DELETE ON fs.entities, fs.views, fs.view_versions, fs.view_features TO PUBLIC;
GRANT INSERT ON fs.materialization_runs TO PUBLIC;
-- Anyone who may change the catalog bumps the generation; a bump only costs
-- cached plans a rebuild.
GRANT SELECT, UPDATE ON fs.catalog_state TO PUBLIC;

ALTER TABLE fs.entities ENABLE ROW LEVEL SECURITY;
ALTER TABLE fs.views ENABLE ROW LEVEL SECURITY;
ALTER TABLE fs.view_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE fs.view_features ENABLE ROW LEVEL SECURITY;
ALTER TABLE fs.materialization_runs ENABLE ROW LEVEL SECURITY;

CREATE POLICY read_all ON fs.entities FOR SELECT USING (true);
CREATE POLICY owner_writes ON fs.entities FOR ALL
	USING (pg_catalog.pg_has_role(owner_role, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(owner_role, 'USAGE'));
CREATE POLICY read_all ON fs.views FOR SELECT USING (true);
CREATE POLICY owner_writes ON fs.views FOR ALL
	USING (pg_catalog.pg_has_role(owner_role, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(owner_role, 'USAGE'));
CREATE POLICY read_all ON fs.view_versions FOR SELECT USING (true);
CREATE POLICY owner_writes ON fs.view_versions FOR ALL
	USING (EXISTS (SELECT FROM fs.views v WHERE v.name = view_name AND pg_catalog.pg_has_role(v.owner_role, 'USAGE')))
	WITH CHECK (EXISTS (SELECT FROM fs.views v WHERE v.name = view_name AND pg_catalog.pg_has_role(v.owner_role, 'USAGE')));
CREATE POLICY read_all ON fs.view_features FOR SELECT USING (true);
CREATE POLICY owner_writes ON fs.view_features FOR ALL
	USING (EXISTS (SELECT FROM fs.views v WHERE v.name = view_name AND pg_catalog.pg_has_role(v.owner_role, 'USAGE')))
	WITH CHECK (EXISTS (SELECT FROM fs.views v WHERE v.name = view_name AND pg_catalog.pg_has_role(v.owner_role, 'USAGE')));
CREATE POLICY read_all ON fs.materialization_runs FOR SELECT USING (true);
-- A run may be recorded by whoever may write the version's history table.
CREATE POLICY writers_record ON fs.materialization_runs FOR INSERT
	WITH CHECK (run_by = current_user AND EXISTS (
		SELECT FROM fs.view_versions vv
		WHERE vv.view_name = materialization_runs.view_name AND vv.version = materialization_runs.version
		  AND pg_catalog.has_table_privilege(pg_catalog.format('fs_data.%I', vv.history_table), 'INSERT')));

CREATE FUNCTION fs._catalog_changed() RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
BEGIN
	UPDATE fs.catalog_state SET generation = generation + 1;
	RETURN NULL;
END;
$$;
COMMENT ON FUNCTION fs._catalog_changed() IS 'internal: bumps the catalog generation';
CREATE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fs.entities
	FOR EACH STATEMENT EXECUTE FUNCTION fs._catalog_changed();
CREATE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fs.views
	FOR EACH STATEMENT EXECUTE FUNCTION fs._catalog_changed();
CREATE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fs.view_versions
	FOR EACH STATEMENT EXECUTE FUNCTION fs._catalog_changed();
CREATE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fs.view_features
	FOR EACH STATEMENT EXECUTE FUNCTION fs._catalog_changed();

------------------------------------------------------------------------------
-- Catalog views
------------------------------------------------------------------------------

CREATE VIEW fs.feature_views AS
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

CREATE VIEW fs.features AS
SELECT f.view_name AS view, f.version, f.name AS feature, f.type, f.position,
	   v.feature_descriptions ->> f.name AS description
  FROM fs.view_features f
  JOIN fs.views v ON v.name = f.view_name;
COMMENT ON VIEW fs.features IS 'one row per feature of every feature view version, with its type and description';
GRANT SELECT ON fs.features TO PUBLIC;

------------------------------------------------------------------------------
-- Internal helpers
------------------------------------------------------------------------------

CREATE FUNCTION fs._describe_source(what text, source text,
	OUT query text, OUT column_names text[], OUT column_types regtype[], OUT relation text)
	AS 'MODULE_PATHNAME', 'fs_describe_source' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION fs._describe_source(text, text) IS
	'internal: validates a feature view source or a spine (a relation name or one SELECT) and returns the query to run, its columns and the qualified relation';

CREATE FUNCTION fs._check_key_type(entity text, key_type regtype) RETURNS void
	AS 'MODULE_PATHNAME', 'fs_check_key_type' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs._check_key_type(text, regtype) IS
	'internal: checks that a type can key an entity (equality and btree ordering)';

-- Checks an object name given as text: present, not empty, fits in a name.
CREATE FUNCTION fs._check_name(kind text, name text) RETURNS void
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
	IF octet_length(name) > 63 THEN
		RAISE EXCEPTION '% name "%" is too long', kind, name
			USING ERRCODE = 'name_too_long',
				  DETAIL = format('It is %s bytes long; the limit is 63.', octet_length(name));
	END IF;
END;
$$;
COMMENT ON FUNCTION fs._check_name(text, text) IS 'internal: validates the name of an entity or feature view';

-- The storage table name for a view version: readable when the name is short,
-- clipped and made unique by a hash when it is long.
CREATE FUNCTION fs._storage_name(view text, version int, suffix text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
	tail text := format('_v%s%s', version, suffix);
	base text := view;
BEGIN
	IF octet_length(base || tail) > 63 THEN
		base := left(view, 63 - octet_length(tail) - 9);
		WHILE octet_length(base) > 63 - octet_length(tail) - 9 LOOP
			base := left(base, length(base) - 1);
		END LOOP;
		base := base || '_' || left(md5(view), 8);
	END IF;
	RETURN base || tail;
END;
$$;
COMMENT ON FUNCTION fs._storage_name(text, int, text) IS 'internal: storage table name of a feature view version';

-- Looks up a feature view version (the latest when version is NULL), or fails naming it.
CREATE FUNCTION fs._view_version(view text, version int DEFAULT NULL) RETURNS fs.view_versions
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
	 WHERE x.view_name = view AND (x.version = _view_version.version OR _view_version.version IS NULL)
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
COMMENT ON FUNCTION fs._view_version(text, int) IS 'internal: a feature view version, the latest by default';

------------------------------------------------------------------------------
-- Entities
------------------------------------------------------------------------------

CREATE FUNCTION fs.create_entity(name text, key_type regtype, description text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	e fs.entities;
BEGIN
	PERFORM fs._check_name('entity', name);
	IF key_type IS NULL THEN
		RAISE EXCEPTION 'key type of entity "%" must not be null', name USING ERRCODE = 'null_value_not_allowed';
	END IF;
	PERFORM fs._check_key_type(name, key_type);
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

CREATE FUNCTION fs.drop_entity(name text, cascade boolean DEFAULT false) RETURNS void
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

CREATE FUNCTION fs._register_feature_view(
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
	PERFORM fs._check_name('feature view', name);
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

	SELECT * INTO e FROM fs.entities x WHERE x.name = _register_feature_view.entity;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'entity "%" does not exist', entity
			USING ERRCODE = 'undefined_object', HINT = 'Create it with fs.create_entity().';
	END IF;

	-- Concurrent registrations of one view take turns.
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext('view:' || name));
	SELECT * INTO v FROM fs.views x WHERE x.name = _register_feature_view.name;
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
	PERFORM set_config('search_path', _register_feature_view.search_path, true);
	src := fs._describe_source(format('source of feature view "%s"', name), source);
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
			schedule = _register_feature_view.schedule,
			description = coalesce(_register_feature_view.description, x.description),
			owner = coalesce(_register_feature_view.owner, x.owner),
			tags = coalesce(_register_feature_view.tags, x.tags),
			feature_descriptions = coalesce(_register_feature_view.feature_descriptions, x.feature_descriptions),
			updated_at = now()
		 WHERE x.name = v.name
		   AND (x.schedule, x.description, x.owner, x.tags, x.feature_descriptions) IS DISTINCT FROM
			   (_register_feature_view.schedule,
				coalesce(_register_feature_view.description, x.description),
				coalesce(_register_feature_view.owner, x.owner),
				coalesce(_register_feature_view.tags, x.tags),
				coalesce(_register_feature_view.feature_descriptions, x.feature_descriptions));

		-- An identical definition is the latest version.
		SELECT * INTO latest FROM fs.view_versions x WHERE x.view_name = v.name ORDER BY x.version DESC LIMIT 1;
		IF FOUND
		   AND latest.source_query = src.query
		   AND latest.search_path = _register_feature_view.search_path
		   AND latest.key_column = _register_feature_view.key_column
		   AND latest.ts_column = _register_feature_view.ts_column
		   AND latest.key_type = e.key_type AND latest.ts_type = ts_t
		   AND latest.ttl IS NOT DISTINCT FROM _register_feature_view.ttl
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
	hist := fs._storage_name(name, n, '');
	onl := fs._storage_name(name, n, '_online');
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
COMMENT ON FUNCTION fs._register_feature_view(text, text, text, text, text, interval, interval, text, text, text[], jsonb, text) IS
	'internal: fs.register_feature_view with the schemas the source resolves in';

-- The public entry point captures the caller's schemas: names in the source
-- resolve there now and at every materialization (by name, so a dbt rebuild
-- that renames a table is picked up).
CREATE FUNCTION fs.register_feature_view(
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
	SELECT fs._register_feature_view($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
		(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(s), ', ' ORDER BY o)
		   FROM pg_catalog.unnest(pg_catalog.current_schemas(false)) WITH ORDINALITY AS u(s, o)))
$$;
COMMENT ON FUNCTION fs.register_feature_view(text, text, text, text, text, interval, interval, text, text, text[], jsonb) IS
	'registers a feature view; returns the new version, or the latest one when the definition is unchanged';

CREATE FUNCTION fs.drop_feature_view(name text, version int DEFAULT NULL, cascade boolean DEFAULT false) RETURNS void
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
		PERFORM fs._view_version(name, version);
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

------------------------------------------------------------------------------
-- Materialization
------------------------------------------------------------------------------

CREATE FUNCTION fs.materialize(view text, start timestamptz DEFAULT NULL, finish timestamptz DEFAULT NULL,
	OUT version int, OUT rows_read bigint, OUT rows_written bigint, OUT online_rows bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	vv fs.view_versions;
	names text[];
	started timestamptz := clock_timestamp();
	feat_list text;
	set_list text;
	sql text;
BEGIN
	IF view IS NULL THEN
		RAISE EXCEPTION 'feature view name must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF start IS NOT NULL AND finish IS NOT NULL AND start >= finish THEN
		RAISE EXCEPTION 'materialization window of feature view "%" is empty: start % is not before finish %',
			view, start, finish USING ERRCODE = 'invalid_parameter_value';
	END IF;
	vv := fs._view_version(view);
	version := vv.version;
	IF NOT (has_table_privilege(format('fs_data.%I', vv.history_table), 'INSERT, UPDATE')
			AND has_table_privilege(format('fs_data.%I', vv.online_table), 'INSERT, UPDATE')) THEN
		RAISE EXCEPTION 'permission denied to materialize feature view "%"', view
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'Materializing needs INSERT and UPDATE on its history and online tables.';
	END IF;
	-- One materialization of a version at a time.
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext(format('materialize:%s@%s', view, vv.version)));

	SELECT array_agg(f.name ORDER BY f.position) INTO names
	  FROM fs.view_features f WHERE f.view_name = vv.view_name AND f.version = vv.version;
	SELECT string_agg(format('%I', x), ', '), string_agg(format('%1$I = EXCLUDED.%1$I', x), ', ')
	  INTO feat_list, set_list FROM unnest(names) x;

	-- History: insert new (key, event time) rows, update changed ones, leave
	-- identical ones alone (re-running a window changes nothing).  Online: the
	-- latest written row per key, only over an older one.
	sql := format($q$
WITH batch AS (
	SELECT %1$I, %2$I, %3$s FROM (
%4$s
	) AS fs_source
	WHERE %1$I IS NOT NULL AND %2$I IS NOT NULL
	  AND ($1 IS NULL OR %2$I >= $1) AND ($2 IS NULL OR %2$I < $2)
), written AS (
	INSERT INTO fs_data.%5$I AS h (%1$I, %2$I, fs_created_at, %3$s)
	SELECT %1$I, %2$I, pg_catalog.now(), %3$s FROM batch
	ON CONFLICT (%1$I, %2$I) DO UPDATE SET fs_created_at = EXCLUDED.fs_created_at, %7$s
	WHERE (%8$s) IS DISTINCT FROM (%9$s)
	RETURNING h.*
), latest AS (
	SELECT DISTINCT ON (%1$I) * FROM written ORDER BY %1$I, %2$I DESC, fs_created_at DESC
), online AS (
	INSERT INTO fs_data.%6$I AS o (%1$I, %2$I, fs_created_at, %3$s)
	SELECT %1$I, %2$I, fs_created_at, %3$s FROM latest
	ON CONFLICT (%1$I) DO UPDATE SET %2$I = EXCLUDED.%2$I, fs_created_at = EXCLUDED.fs_created_at, %7$s
	WHERE (o.%2$I, o.fs_created_at) < (EXCLUDED.%2$I, EXCLUDED.fs_created_at)
	RETURNING 1
)
SELECT (SELECT pg_catalog.count(*) FROM batch), (SELECT pg_catalog.count(*) FROM written),
	   (SELECT pg_catalog.count(*) FROM online)
$q$,
		vv.key_column, vv.ts_column, feat_list, vv.source_query, vv.history_table, vv.online_table, set_list,
		(SELECT string_agg(format('h.%I', x), ', ') FROM unnest(names) x),
		(SELECT string_agg(format('EXCLUDED.%I', x), ', ') FROM unnest(names) x));
	BEGIN
		PERFORM set_config('search_path', vv.search_path, true);
		EXECUTE sql INTO rows_read, rows_written, online_rows USING start, finish;
		PERFORM set_config('search_path', 'pg_catalog', true);
	EXCEPTION WHEN cardinality_violation THEN
		RAISE EXCEPTION 'source of feature view "%" yields more than one row for the same key and event time', view
			USING ERRCODE = 'cardinality_violation',
				  HINT = format('Make (%I, %I) unique in the source.', vv.key_column, vv.ts_column);
	END;
	INSERT INTO fs.materialization_runs (view_name, version, window_start, window_finish, started_at, finished_at,
										 duration, rows_read, rows_written, online_rows, status)
	VALUES (vv.view_name, vv.version, start, finish, started, clock_timestamp(), clock_timestamp() - started,
			rows_read, rows_written, online_rows, 'succeeded');
END;
$$;
COMMENT ON FUNCTION fs.materialize(text, timestamptz, timestamptz) IS
	'materializes the latest version of a feature view for the window start <= event time < finish, in one transaction';

------------------------------------------------------------------------------
-- Feature resolution and online reads
------------------------------------------------------------------------------

CREATE FUNCTION fs.resolve_features(refs fs.feature_ref[])
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
		vv := fs._view_version(fs.ref_view(r), pinned);
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

-- Builds the online lookup query for these references and a keys array type:
-- one LEFT JOIN per view version from the keys in request order.  The query
-- takes the keys as $1; fs._online_lookup keeps its plan per session.
CREATE FUNCTION fs._online_sql(refs fs.feature_ref[], keys_type regtype) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
	elem_t regtype;
	r record;
	joins text := '';
	pairs text[] := '{}';
	objs text[] := '{}';
	aliases jsonb := '{}';
	alias text;
	n int := 0;
BEGIN
	SELECT t.typelem::regtype INTO elem_t FROM pg_type t WHERE t.oid = keys_type;
	IF elem_t IS NULL OR elem_t = 0 THEN
		RAISE EXCEPTION 'keys must be an array, not %', keys_type USING ERRCODE = 'datatype_mismatch';
	END IF;
	FOR r IN
		SELECT rf.ref, rf.feature, vv.*
		  FROM fs.resolve_features(refs) rf
		  JOIN fs.view_versions vv ON vv.view_name = rf.view AND vv.version = rf.version
	LOOP
		IF elem_t <> r.key_type AND NOT EXISTS (
			SELECT FROM pg_cast c WHERE c.castsource = elem_t AND c.casttarget = r.key_type AND c.castcontext = 'i') THEN
			RAISE EXCEPTION 'keys of type % cannot look up feature view "%", whose key type is %',
				elem_t, r.view_name, r.key_type USING ERRCODE = 'datatype_mismatch';
		END IF;
		alias := aliases ->> format('%s@%s', r.view_name, r.version);
		IF alias IS NULL THEN
			n := n + 1;
			alias := 'o' || n;
			aliases := aliases || jsonb_build_object(format('%s@%s', r.view_name, r.version), alias);
			joins := joins || format(E'\n  LEFT JOIN fs_data.%I AS %I ON %I.%I = k.key', r.online_table, alias, alias, r.key_column);
			IF r.ttl IS NOT NULL THEN
				joins := joins || format(' AND %I.%I >= pg_catalog.now() - %L::interval', alias, r.ts_column, r.ttl);
			END IF;
		END IF;
		pairs := pairs || format('%L, %I.%I', r.ref, alias, r.feature);
	END LOOP;
	-- jsonb_build_object takes at most 100 arguments: 50 features per call.
	FOR n IN 0 .. (cardinality(pairs) - 1) / 50 LOOP
		objs := objs || format('pg_catalog.jsonb_build_object(%s)', array_to_string(pairs[n * 50 + 1 : n * 50 + 50], ', '));
	END LOOP;
	RETURN format(E'SELECT k.key, %s\n  FROM pg_catalog.unnest($1) WITH ORDINALITY AS k(key, ord)%s\n ORDER BY k.ord',
				  array_to_string(objs, ' || '), joins);
END;
$$;
COMMENT ON FUNCTION fs._online_sql(fs.feature_ref[], regtype) IS
	'internal: the online lookup query for these references and keys array type';

CREATE FUNCTION fs._online_lookup(refs fs.feature_ref[], keys anyarray)
RETURNS TABLE (key anyelement, features jsonb)
	AS 'MODULE_PATHNAME', 'fs_online_lookup' LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL RESTRICTED ROWS 10;
COMMENT ON FUNCTION fs._online_lookup(fs.feature_ref[], anyarray) IS
	'internal: fs.online_features, with the lookup plan kept per session until the catalog changes';

CREATE FUNCTION fs.online_features(features fs.feature_ref[], keys anyarray)
RETURNS TABLE (key anyelement, features jsonb)
LANGUAGE sql STABLE PARALLEL RESTRICTED ROWS 10
AS $$ SELECT * FROM fs._online_lookup($1, $2) $$;
COMMENT ON FUNCTION fs.online_features(fs.feature_ref[], anyarray) IS
	'latest feature values for each key, in request order; missing keys and values older than the TTL are JSON null';
