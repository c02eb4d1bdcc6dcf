
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
	split_starts timestamptz[],
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
	timestamptz[], bigint, int) IS
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
-- split from its start time).  Hash splits are ordered by name, time splits
-- by start.
CREATE OR REPLACE FUNCTION fs_internal.training_set_split(split jsonb,
	OUT kind text, OUT names text[], OUT bounds float8[], OUT starts timestamptz[], OUT seed bigint)
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
			names := names || e.key;
			starts := starts || (e.value #>> '{}')::timestamptz;
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
		SELECT array_agg(n ORDER BY s), array_agg(s ORDER BY s) INTO names, starts
		  FROM unnest(names, starts) AS u(n, s);
		IF (SELECT count(DISTINCT s) FROM unnest(starts) s) < cardinality(starts) THEN
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
	key_column text, ts_column text, strict boolean, known_at boolean, split jsonb, description text,
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
										  key_column, ts_column, strict, known_at, split, description, retrieval_sql,
										  compression_level, created_by)
	VALUES (name, n, 'building', pg_current_xact_id(), fs_internal.storage_name(name, n, '_training'), spine,
			search_path, key_column, ts_column, strict, known_at, split, description, retrieval_sql,
			compression_level, fs_internal.role_name(caller));
	RETURN n;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_training_set_begin(regrole, text, text, text, text, text, boolean, boolean, jsonb,
	text, text, int) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_training_set_begin(regrole, text, text, text, text, text, boolean, boolean, jsonb,
	text, text, int) IS
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

-- The training set versions built from a feature view version, as
-- 'name@version, ...', or NULL.  fs_internal.w_drop_feature_view calls it
-- (after taking the view's lock) and refuses the drop unless cascading.  It
-- waits for creations that use the version to finish (they hold a shared
-- lock on it until they commit), so none slips past the check.
CREATE OR REPLACE FUNCTION fs_internal.training_set_dependents(view text, version int) RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext(format('uses:%s@%s', view, version)));
	RETURN (SELECT string_agg(format('%s@%s', d.name, d.version), ', ' ORDER BY d.name, d.version)
			  FROM (SELECT DISTINCT c.name, c.version FROM fs.training_set_columns c
					 WHERE c.view_name = training_set_dependents.view AND c.view_version = training_set_dependents.version) d);
END;
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
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext(format('uses:%s@%s', view, version)));
	FOR d IN SELECT DISTINCT c.name, c.version FROM fs.training_set_columns c
			  WHERE c.view_name = drop_training_set_dependents.view AND c.view_version = drop_training_set_dependents.version
			  ORDER BY 1, 2
	LOOP
		PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext('training_set:' || d.name));
		PERFORM fs_internal.drop_training_set_version(d.name, d.version, true);
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
	sql := fs_internal.historical_features(spine, pinned, key_column, ts_column, strict, known_at, NULL, search_path);

	v := fs_internal.write('training_set_begin', name, spine, search_path, key_column, ts_column, strict, known_at,
						   split, description, sql, level);
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
COMMENT ON FUNCTION fs_internal.create_training_set(text, text, fs.feature_ref[], text, text, boolean, boolean, jsonb,
	text, int, text) IS
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
	split jsonb DEFAULT NULL,
	description text DEFAULT NULL,
	compression_level int DEFAULT NULL
) RETURNS int
LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $$
	SELECT fs_internal.create_training_set($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
		(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(s), ', ' ORDER BY o)
		   FROM pg_catalog.unnest(pg_catalog.current_schemas(false)) WITH ORDINALITY AS u(s, o)))
$$;
COMMENT ON FUNCTION fs.create_training_set(text, text, fs.feature_ref[], text, text, boolean, boolean, jsonb, text, int) IS
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
	   pg_catalog.jsonb_build_object('strict', tv.strict, 'known_at', tv.known_at, 'split', tv.split) AS options,
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
