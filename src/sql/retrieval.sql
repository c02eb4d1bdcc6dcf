
------------------------------------------------------------------------------
-- Historical (point-in-time) retrieval
------------------------------------------------------------------------------

-- fs.historical_features returns SQL, it does not run it: the text goes to
-- \gexec, a view, a dbt model or CREATE TABLE AS.  The SQL is one LEFT JOIN
-- per feature view version from the spine, each on
--     view key = spine key AND spine ts @> view ts (@>= when strict is false)
--     AND view ts >= spine ts - view TTL           (when the view has a TTL)
--     AND view fs_created_at <= spine ts           (when known_at)
-- so every spine row yields exactly one output row.  Names are resolved now:
-- a reference without @N means the latest version at generation time, and
-- the storage tables are written fully qualified.
--
-- strict defaults to true: a feature row stamped at the very instant of a
-- spine row is not used for it (such a row often already contains the
-- labelled event, e.g. a count that includes the transaction being
-- labelled).  strict => false gives the inclusive "event time <= spine time"
-- match of most feature stores.  Event times are compared at the view's
-- granularity: a spine time of another type (timestamptz, timestamp, date)
-- is cast to the view's timestamp type.
--
-- Output columns are named view__feature.  A feature requested from several
-- versions of its view (spend@1:amount and spend@2:amount) keeps that name
-- for the first version requested; the others are named view_vN__feature
-- (spend_v2__amount).
--
-- known_at => true keeps only rows materialized (fs_created_at) by the spine
-- time, so values backfilled later cannot leak into older spine rows; it
-- needs a spine time of type timestamptz, timestamp or date (the latter two
-- read in the session's time zone).  A history table holds one row per
-- (key, event time), so there are no ties on event time to break.

CREATE OR REPLACE FUNCTION fs_internal.historical_features(
	spine text,
	features fs.feature_ref[],
	key_column text,
	ts_column text,
	strict boolean,
	known_at boolean,
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
			spine_ts := format('s.%I', ts_column);
			IF spine_ts_t <> r.ts_type THEN
				spine_ts := format('(%s)::%s', spine_ts, format_type(r.ts_type, NULL));
			END IF;
			joins := joins || format(E'\n  LEFT JOIN %s AS %I\n    ON %I.%I = s.%I\n   AND %s %s %I.%I',
									 fs_internal.storage_rel(fs_internal.view_version(r.view_name, r.version), false), alias, alias, r.key_column, key_column,
									 spine_ts, CASE WHEN strict THEN '@>' ELSE '@>=' END, alias, r.ts_column);
			IF r.ttl IS NOT NULL THEN
				joins := joins || format(E'\n   AND %I.%I >= %s - %L::interval', alias, r.ts_column, spine_ts, r.ttl);
			END IF;
			IF known_at THEN
				joins := joins || format(E'\n   AND %I.fs_created_at <= (s.%I)::timestamptz', alias, ts_column);
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
	PERFORM fs_internal.end_user_sql(token);
	RETURN sql;
END;
$$;
COMMENT ON FUNCTION fs_internal.historical_features(text, fs.feature_ref[], text, text, boolean, boolean, text) IS
	'internal: fs.historical_features with the schemas the spine resolves in';

-- The public entry point captures the caller's schemas, in which the spine is
-- resolved (the generated SQL qualifies everything else).
CREATE OR REPLACE FUNCTION fs.historical_features(
	spine text,
	features fs.feature_ref[],
	key_column text,
	ts_column text,
	strict boolean DEFAULT true,
	known_at boolean DEFAULT false
) RETURNS text
LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $$
	SELECT fs_internal.historical_features($1, $2, $3, $4, $5, $6,
		(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(s), ', ' ORDER BY o)
		   FROM pg_catalog.unnest(pg_catalog.current_schemas(false)) WITH ORDINALITY AS u(s, o)))
$$;
COMMENT ON FUNCTION fs.historical_features(text, fs.feature_ref[], text, text, boolean, boolean) IS
	'point-in-time retrieval SQL: one row per spine row, spine columns then one view__feature column per feature; '
	'strict (default) excludes feature rows stamped at the spine instant, known_at only sees rows materialized by then';
