
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
		IF pinned IS NULL THEN
			vv := fs_internal.serving_version(fs.ref_view(r));
		ELSE
			vv := fs_internal.view_version(fs.ref_view(r), pinned);
		END IF;
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
