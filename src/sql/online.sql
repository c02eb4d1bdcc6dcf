
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

-- Builds the online lookup query for these references and a keys array type:
-- one LEFT JOIN per view version from the keys in request order.  The query
-- takes the keys as $1; fs_internal.online_lookup keeps its plan per session.
CREATE OR REPLACE FUNCTION fs_internal.online_sql(refs fs.feature_ref[], keys_type regtype) RETURNS text
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
			joins := joins || format(E'\n  LEFT JOIN %s AS %I ON %I.%I = k.key',
									 fs_internal.storage_rel(fs_internal.view_version(r.view_name, r.version), true),
									 alias, alias, r.key_column);
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
COMMENT ON FUNCTION fs_internal.online_sql(fs.feature_ref[], regtype) IS
	'internal: the online lookup query for these references and keys array type';

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
